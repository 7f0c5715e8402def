"""AWS Data Exports with file versioning "Create new data export file" (S3 `CREATE_NEW_REPORT`).

Each refresh of a billing period lands in a subfolder of its own under
`data/BILLING_PERIOD=YYYY-MM/`, with the same file names as the refreshes before it, and the
period's `metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json` lists the current refresh's
files by S3 URI. The newest delivery (per its manifest) supersedes the older subfolders, in
`finops load` (the landing folder) and in the S3 sensor alike: nothing mixed, nothing doubled.

The folder and manifest layout is hand-made after AWS's description of the delivery (subfolder
names invented); the data is the public FOCUS sample (`finops load`) and the sample generator's
CUR (the S3 sensor, whose days must fall in the partitions).
"""

import csv
import datetime as dt
import gzip
import io
import json
import os
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pytest
from dagster_aws.s3 import S3Resource

from finops_assets.definitions import defs
from finops_assets.domain.sources import aws_cur
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.s3_sensor import s3_export_sensor
from finops_assets.loading.plan import plan_deliveries
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.ingest.s3_cur_bucket import koku_cur_in_october, point_at_new_bucket
from finops_assets_tests.servers.s3 import running_s3

FOCUS_SAMPLE = "focus-sample-data/FOCUS-1.0/focus_sample.csv"
PERIOD = "BILLING_PERIOD=2024-09"


def _create_new_folder(root: Path, text: str) -> tuple[Path, Path]:
    """Two refreshes of one period: an older partial one and the current whole one."""
    lines = text.splitlines(keepends=True)
    older, newer = "".join(lines[:401]), text
    export = root / "focus-export"
    paths = []
    for stamp, body, mtime in (
        ("20241002T0100Z-e1", older, 1_000),
        ("20241003T0100Z-e2", newer, 2_000),
    ):
        path = export / "data" / PERIOD / stamp / "focus-export-00001.csv"
        path.parent.mkdir(parents=True)
        path.write_text(body)
        os.utime(path, (mtime, mtime))
        paths.append(path)
    manifest = export / "metadata" / PERIOD / "focus-export-Manifest.json"
    manifest.parent.mkdir(parents=True)
    uri = f"s3://bucket/exports/focus-export/data/{PERIOD}/20241003T0100Z-e2/focus-export-00001.csv"
    manifest.write_text(json.dumps({"executionId": "e2", "dataFiles": [uri]}))
    os.utime(manifest, (2_001, 2_001))
    return paths[0], paths[1]


def _billed(text: str) -> dict[str, Decimal]:
    """Per billing currency, sum(BilledCost) with Python's csv and decimal, each amount rounded
    half-up at the stored scale (10 decimals) first."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in csv.DictReader(io.StringIO(text)):
        amount = Decimal(row["BilledCost"] or "0").quantize(Decimal("1e-10"), ROUND_HALF_UP)
        totals[row["BillingCurrency"]] += amount
    return dict(totals)


def _by_currency(totals: pl.DataFrame) -> dict[str, Decimal]:
    summed = totals.group_by("currency").agg(pl.col("amount").sum())
    return {row["currency"]: Decimal(str(row["amount"])) for row in summed.iter_rows(named=True)}


def test_finops_load_takes_only_the_subfolder_the_manifest_names(tmp_path, shared_data):
    text = (shared_data / FOCUS_SAMPLE).read_text()
    older, newer = _create_new_folder(tmp_path, text)
    [delivery] = plan_deliveries([tmp_path / "focus-export"])
    assert [f.path for f in delivery.files] == [newer]
    assert delivery.skipped == [
        f"{older}: not in focus-export-Manifest.json: a superseded delivery"
    ]
    assert _by_currency(delivery.totals()) == _billed(text) != _billed(older.read_text())
    assert delivery.period is not None and delivery.period[0] >= dt.date(2020, 1, 1)


EXPORT = "cur/acme"
START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
TENTH_DECIMAL = Decimal("1e-10")


@pytest.fixture(scope="module")
def moto():
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(moto, monkeypatch, tmp_path):
    return point_at_new_bucket(moto, monkeypatch, tmp_path, f"{EXPORT}?layout=cur2")


@pytest.fixture
def cur_text(shared_data) -> str:
    """koku's real CUR file (19 rows, June 2018) moved to October 2026, values unchanged."""
    return koku_cur_in_october(shared_data)


def _refresh(bucket: str, folder: str, body: bytes) -> None:
    """One "create new" refresh of October: its subfolder, then the manifest naming it."""
    s3 = boto3.client("s3")
    key = f"{EXPORT}/data/BILLING_PERIOD=2026-10/{folder}/acme-00001.csv.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    manifest = {"executionId": folder, "dataFiles": [f"s3://{bucket}/{key}"]}
    s3.put_object(
        Bucket=bucket,
        Key=f"{EXPORT}/metadata/BILLING_PERIOD=2026-10/acme-Manifest.json",
        Body=json.dumps(manifest).encode(),
    )


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"s3": S3Resource(), "lake": LakeResource()},
        definitions=defs,
    )
    return s3_export_sensor.evaluate_tick(context)


def _run(instance, request: dg.RunRequest, tmp_path: Path) -> None:
    """The requested ranged run's first day, on the raw asset (the first step of the requested
    graph): the day the file's rows are on. Kept to one day for time; a whole ranged run over a
    bucket delivery is test_s3_legacy_cur_deliveries' last test."""
    result = dg.materialize(
        [build_raw_asset(aws_cur)],
        partition_key=request.tags[START],
        instance=instance,
        resources={
            "lake": LakeResource(),
            "landing": LandingResource(landing_dir=str(tmp_path / "empty")),
        },
    )
    assert result.success


def _cur_totals(text: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for record in csv.DictReader(io.StringIO(text)):
        amount = Decimal(record["lineItem/UnblendedCost"]).quantize(TENTH_DECIMAL, ROUND_HALF_UP)
        totals[record["lineItem/CurrencyCode"]] += amount
    return dict(totals)


def _restated(text: str) -> str:
    """The same report with 100 added to the first line item's cost."""
    records = list(csv.DictReader(io.StringIO(text)))
    first = records[0]
    first["lineItem/UnblendedCost"] = str(Decimal(first["lineItem/UnblendedCost"]) + 100)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(first), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


@pytest.mark.slow
def test_the_s3_sensor_runs_the_newest_refresh_only_and_never_a_second_copy(
    bucket, cur_text, tmp_path
):
    partial = "".join(cur_text.splitlines(keepends=True)[:8])  # an earlier refresh: 7 rows
    _refresh(bucket, "20261002T0100Z-e1", gzip.compress(partial.encode(), mtime=0))
    current = gzip.compress(cur_text.encode(), mtime=0)
    _refresh(bucket, "20261003T0100Z-e2", current)
    lake = DeltaLake(str(tmp_path / "lake"))
    raw = tables.raw_contract(aws_cur)
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        [run] = first.run_requests
        assert (run.tags[START], run.tags[END]) == ("2026-10-01", "2026-10-31")
        _run(instance, run, tmp_path)
        rows = lake.read_day(raw, dt.date(2026, 10, 1))
        assert rows.height == 19  # the e1 refresh's 7 rows never mix in
        assert dict(aws_cur.billed_totals(rows).iter_rows()) == _cur_totals(cur_text)
        # the same bytes again as a third refresh: nothing to run
        _refresh(bucket, "20261004T0100Z-e3", current)
        again = _tick(instance, first.cursor)
        assert not again.run_requests
        restated = _restated(cur_text)
        _refresh(bucket, "20261005T0100Z-e4", gzip.compress(restated.encode(), mtime=0))
        [rerun] = _tick(instance, again.cursor).run_requests
        assert rerun.run_key != run.run_key
        _run(instance, rerun, tmp_path)
    rows = lake.read_day(raw, dt.date(2026, 10, 1))
    assert rows.height == 19  # replaced, never appended to an earlier refresh's rows
    assert dict(aws_cur.billed_totals(rows).iter_rows()) == _cur_totals(restated)
    assert _cur_totals(restated) != _cur_totals(cur_text)
