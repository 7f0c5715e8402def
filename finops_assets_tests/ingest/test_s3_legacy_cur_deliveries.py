"""Legacy CUR deliveries in S3 (moto server), laid out as AWS writes them, read by the sensor.

`<report>/<YYYYMMDD-YYYYMMDD>/<assemblyId>/<report>-00001.csv.gz` with
`<report>/<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json` naming the current assembly. The data is
koku's real legacy CUR file (public_data/koku/aws/test_cur.csv), its June 2018 moved to
October 2026 (the first month of the daily partitions), values unchanged.
"""

import csv
import datetime as dt
import gzip
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import boto3
import dagster as dg
import pytest
from dagster_aws.s3 import S3Resource

from finops_assets.definitions import defs
from finops_assets.domain.deliveries import IncompleteDeliveryError
from finops_assets.domain.sources import aws_cur
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.s3_sensor import s3_export_sensor
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.s3_exports import from_location
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.ingest.s3_cur_bucket import koku_cur_in_october, point_at_new_bucket
from finops_assets_tests.servers.s3 import running_s3

pytestmark = pytest.mark.slow

REPORT = "billing/acme"
PERIOD = "20261001-20261101"  # legacy CUR: the end day is exclusive
START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
OCTOBER = ("2026-10-01", "2026-10-31")
TENTH_DECIMAL = Decimal("1e-10")


@pytest.fixture(scope="module")
def moto():
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(moto, monkeypatch, tmp_path):
    return point_at_new_bucket(moto, monkeypatch, tmp_path, f"{REPORT}?layout=cur")


@pytest.fixture
def cur_text(shared_data) -> str:
    return koku_cur_in_october(shared_data)


def _deliver(bucket: str, assembly: str, files: dict[str, bytes], listed=None) -> None:
    """An assembly's files, then the period manifest naming it (as AWS writes them)."""
    s3 = boto3.client("s3")
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=f"{REPORT}/{PERIOD}/{assembly}/{name}", Body=body)
    keys = [f"{REPORT}/{PERIOD}/{assembly}/{n}" for n in (listed or files)]
    manifest = {
        "assemblyId": assembly,
        "reportKeys": keys,
        "billingPeriod": {"start": "20261001T000000.000Z", "end": "20261101T000000.000Z"},
    }
    body = json.dumps(manifest).encode()
    s3.put_object(Bucket=bucket, Key=f"{REPORT}/{PERIOD}/acme-Manifest.json", Body=body)


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"s3": S3Resource(), "lake": LakeResource()},
        definitions=defs,
    )
    return s3_export_sensor.evaluate_tick(context)


def _materialize_first_day(tmp_path) -> DeltaLake:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(aws_cur)],
            partition_key=OCTOBER[0],
            instance=instance,
            resources={
                "lake": LakeResource(),
                "landing": LandingResource(landing_dir=str(tmp_path / "empty")),
            },
        )
    assert result.success
    return DeltaLake(str(tmp_path / "lake"))


def _records(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _totals(records: list[dict[str, str]]) -> dict[str, Decimal]:
    """Per currency, the rows' cost as the parser keeps it (each rounded half-up once, 1e-10)."""
    totals: dict[str, Decimal] = {}
    for record in records:
        currency = record["lineItem/CurrencyCode"]
        amount = Decimal(record["lineItem/UnblendedCost"]).quantize(TENTH_DECIMAL, ROUND_HALF_UP)
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return totals


def _restated(text: str) -> str:
    """The same report with 100 added to the first line item's cost."""
    records = _records(text)
    first = records[0]
    first["lineItem/UnblendedCost"] = str(Decimal(first["lineItem/UnblendedCost"]) + 100)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(first), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def test_only_the_manifest_assembly_counts_and_runs_start_from_the_archive(
    bucket, cur_text, tmp_path
):
    superseded = "\n".join(cur_text.splitlines()[:5]) + "\n"  # an earlier, shorter assembly
    _deliver(bucket, "assembly-1", {"acme-00001.csv.gz": gzip.compress(superseded.encode())})
    current = gzip.compress(cur_text.encode(), mtime=0)
    _deliver(bucket, "assembly-2", {"acme-00001.csv.gz": current})

    payloads = from_location(f"s3://{bucket}/{REPORT}?layout=cur", Settings.from_env()).fetch(
        "aws_cur", dt.date(2026, 10, 5)
    )
    assert [(p.name, p.data, p.period, p.vouched) for p in payloads] == [
        (
            f"aws_cur/{PERIOD}/acme-00001.csv.gz",
            current,
            (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
            True,
        )
    ]
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        again = _tick(instance, first.cursor)
    [run] = first.run_requests
    assert (run.tags[START], run.tags[END]) == OCTOBER and run.partition_key is None
    assert not again.run_requests

    lake = _materialize_first_day(tmp_path)  # the run's first day archives the whole delivery
    raw = lake.read_day(tables.raw_contract(aws_cur), dt.date(2026, 10, 1))
    records = _records(cur_text)
    assert raw.height == len(records) == 19  # assembly-1's rows never mix in
    assert dict(aws_cur.billed_totals(raw).iter_rows()) == _totals(records)

    with dg.instance_for_test() as instance:
        started = _tick(instance)  # first start over a lake that holds the delivery
        # the same bytes again, as a new assembly under another file name
        _deliver(bucket, "assembly-3", {"acme-copy-00001.csv.gz": current})
        duplicate = _tick(instance, started.cursor)
        restated = _restated(cur_text)
        _deliver(bucket, "assembly-4", {"acme-00001.csv.gz": gzip.compress(restated.encode())})
        rerun = _tick(instance, duplicate.cursor)
    assert not started.run_requests and "no new export files" in (started.skip_message or "")
    assert not duplicate.run_requests
    [restatement] = rerun.run_requests
    assert (restatement.tags[START], restatement.tags[END]) == OCTOBER
    assert restatement.run_key != run.run_key
    # bounded: one watermark and one listing digest for the period, after four assemblies
    periods = json.loads(rerun.cursor or "{}")["periods"]
    assert [len(periods["watermarks"]), len(periods["listings"])] == [1, 1]


def test_a_manifest_listing_a_missing_file_asks_for_a_run_that_fails_naming_it(bucket, cur_text):
    body = gzip.compress(cur_text.encode(), mtime=0)
    _deliver(
        bucket,
        "assembly-9",
        {"acme-00001.csv.gz": body},
        listed=["acme-00001.csv.gz", "acme-00002.csv.gz"],
    )
    with dg.instance_for_test() as instance:
        result = _tick(instance)
    [run] = result.run_requests
    assert (run.tags[START], run.tags[END]) == OCTOBER
    exports = from_location(f"s3://{bucket}/{REPORT}?layout=cur", Settings.from_env())
    with pytest.raises(IncompleteDeliveryError, match="acme-00002.csv.gz: listed in s3://"):
        exports.fetch("aws_cur", dt.date(2026, 10, 31))


def test_the_sensors_ranged_run_writes_every_day_of_the_period_from_one_archived_copy(
    bucket, cur_text, tmp_path
):
    _deliver(bucket, "assembly-1", {"acme-00001.csv.gz": gzip.compress(cur_text.encode())})
    with dg.instance_for_test() as instance:
        [run] = _tick(instance).run_requests
        result = dg.materialize(
            [build_raw_asset(aws_cur)],
            instance=instance,
            tags={START: run.tags[START], END: run.tags[END]},
            resources={
                "lake": LakeResource(),
                "landing": LandingResource(landing_dir=str(tmp_path / "empty")),
            },
        )
        written = instance.get_materialized_partitions(dg.AssetKey("aws_cur_raw"))
    assert result.success
    assert written == {f"2026-10-{d:02d}" for d in range(1, 32)}
    lake = DeltaLake(str(tmp_path / "lake"))
    raw = tables.raw_contract(aws_cur)
    heights = {day: lake.read_day(raw, dt.date.fromisoformat(day)).height for day in written}
    assert heights.pop("2026-10-01") == 19 and set(heights.values()) == {0}
    assert len(LakeResource().archive().digests("aws_cur", "2026-10-01")) == 1
