"""The native CUR 2.0 layout in S3 (moto server): whole-month files, read per charge day."""

import datetime as dt
import gzip
import io
import json
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster_aws.s3 import S3Resource
from polars.testing import assert_frame_equal

from finops_assets.definitions import defs
from finops_assets.domain.deliveries import IncompleteDeliveryError
from finops_assets.domain.sources import aws_cur
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.pipeline import ingest_payloads
from finops_assets.ingest.s3_sensor import s3_export_sensor
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.payloads import Payload
from finops_assets.resources.s3_exports import from_location
from finops_assets.sample.aws_cur_writer import write_day
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.archive import RawArchive
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.s3 import running_s3

pytestmark = pytest.mark.slow

DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
RAW = tables.raw_contract(aws_cur)
PERIOD = "cur/acme/data/BILLING_PERIOD=2026-10"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture(scope="module")
def moto():
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(moto, monkeypatch, tmp_path):
    for key, value in moto.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FINOPS_LAKE_URI", str(tmp_path / "lake"))  # the archive sensors read
    name = moto.new_bucket()
    monkeypatch.setenv("FINOPS_SOURCE_AWS_CUR", f"s3://{name}/cur/acme?layout=cur2")
    return name


def _month_files(landing: Path) -> dict[str, bytes]:
    """Two days of the sample export, concatenated into month files (Parquet and CSV.gz)."""
    days = [write_day(landing, day, seed=5, rows_per_day=120) for day in (DAY1, DAY2)]
    parquet = pa.concat_tables(
        [pq.read_table(p) for d in days for p in d if p.suffix == ".parquet"]
    )
    texts = [
        pl.read_csv(io.BytesIO(gzip.decompress(p.read_bytes())), infer_schema=False)
        for d in days
        for p in d
        if p.suffix == ".gz"
    ]
    sink = io.BytesIO()
    pq.write_table(parquet, sink)
    csv_gz = gzip.compress(pl.concat(texts).write_csv().encode(), mtime=0)
    return {"acme-00001.snappy.parquet": sink.getvalue(), "acme-00001.csv.gz": csv_gz}


def _put_month(bucket: str, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        boto3.client("s3").put_object(Bucket=bucket, Key=f"{PERIOD}/{name}", Body=body)


def _materialize(tmp_path: Path, lake_name: str, days: list[dt.date]) -> DeltaLake:
    lake_dir = tmp_path / lake_name
    with dg.instance_for_test() as instance:
        for day in days:
            result = dg.materialize(
                [build_raw_asset(aws_cur)],
                partition_key=day.isoformat(),
                instance=instance,
                resources={
                    "lake": LakeResource(lake_uri=str(lake_dir)),
                    "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
                },
            )
            assert result.success
    return DeltaLake(str(lake_dir))


def test_each_day_of_a_month_file_gets_exactly_its_rows(bucket, tmp_path, monkeypatch):
    _put_month(bucket, _month_files(tmp_path / "landing"))
    from_month = _materialize(tmp_path, "lake_s3", [DAY1, DAY2])
    monkeypatch.setenv("FINOPS_SOURCE_AWS_CUR", "landing")
    per_day = _materialize(tmp_path, "lake_landing", [DAY1, DAY2])
    for day in (DAY1, DAY2):
        month_rows, day_rows = from_month.read_day(RAW, day), per_day.read_day(RAW, day)
        assert month_rows.height == day_rows.height > 0
        assert_frame_equal(aws_cur.billed_totals(month_rows), aws_cur.billed_totals(day_rows))
        ids = "identity_line_item_id"
        assert sorted(month_rows[ids].to_list()) == sorted(day_rows[ids].to_list())
        assert from_month.read_day(tables.QUARANTINE, day).is_empty()


def test_only_single_day_payloads_quarantine_rows_of_other_days(tmp_path):
    month = _month_files(tmp_path / "landing")["acme-00001.csv.gz"]
    fetched = dt.datetime(2026, 10, 3, tzinfo=dt.UTC)
    archive = RawArchive(str(tmp_path / "archive"))
    spanning = Payload("aws_cur/2026-10/m.csv.gz", month, fetched, spans_days=True)
    single = Payload("aws_cur/2026-10-01/m.csv.gz", month, fetched)
    kept = ingest_payloads(aws_cur, [spanning], DAY1, archive)
    strict = ingest_payloads(aws_cur, [single], DAY1, archive)
    assert kept.quarantine.is_empty()
    assert_frame_equal(kept.rows.drop("x_source_file"), strict.rows.drop("x_source_file"))
    assert strict.quarantine.height > 0
    assert set(strict.quarantine["x_reason"].str.contains("outside the file's day")) == {True}


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"s3": S3Resource(), "lake": LakeResource()},
        definitions=defs,
    )
    return s3_export_sensor.evaluate_tick(context)


def test_a_restated_month_file_reruns_its_month_in_one_ranged_run(bucket):
    _put_month(bucket, {"acme-00001.csv.gz": b"v1"})
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        duplicate = _tick(instance, first.cursor)
        _put_month(bucket, {"acme-00001.csv.gz": b"v2"})
        restated = _tick(instance, duplicate.cursor)
    [run] = first.run_requests
    assert (run.tags[RANGE_START], run.tags[RANGE_END]) == ("2026-10-01", "2026-10-31")
    assert run.partition_key is None
    assert not duplicate.run_requests
    [rerun] = restated.run_requests
    assert (rerun.tags[RANGE_START], rerun.tags[RANGE_END]) == ("2026-10-01", "2026-10-31")
    assert rerun.run_key != run.run_key


def _put_manifest(bucket: str, data_files: list[str]) -> None:
    """An AWS Data Exports manifest for the period, listing `data_files` by their S3 URI."""
    uris = [f"s3://{bucket}/{PERIOD}/{name}" for name in data_files]
    body = json.dumps({"executionId": "e-2", "exportArn": "arn:x", "dataFiles": uris})
    key = "cur/acme/metadata/BILLING_PERIOD=2026-10/acme-Manifest.json"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())


def test_the_manifest_names_the_delivery_unlisted_files_are_superseded(bucket, tmp_path):
    files = _month_files(tmp_path / "landing")
    _put_month(bucket, files)
    # a file of an earlier execution, still in the folder: not in the manifest, never read
    _put_month(bucket, {"acme-00002.csv.gz": gzip.compress(b"old,delivery\n1,2\n", mtime=0)})
    _put_manifest(bucket, ["acme-00001.snappy.parquet", "acme-00001.csv.gz"])
    exports = from_location(f"s3://{bucket}/cur/acme?layout=cur2", Settings.from_env())
    payloads = exports.fetch("aws_cur", DAY1)
    assert sorted(p.name for p in payloads) == [
        "aws_cur/2026-10/acme-00001.csv.gz",
        "aws_cur/2026-10/acme-00001.snappy.parquet",
    ]
    assert all(p.vouched and p.period == (DAY1, dt.date(2026, 10, 31)) for p in payloads)
    _put_manifest(bucket, ["acme-00001.csv.gz", "acme-00003.csv.gz"])
    with pytest.raises(IncompleteDeliveryError, match="acme-00003.csv.gz: listed in s3://"):
        exports.fetch("aws_cur", DAY1)
