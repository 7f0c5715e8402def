"""GCP billing export files by month in GCS (fake-gcs-server on 127.0.0.1), read by the sensor.

`gs://<bucket>/<prefix>/<source>/<YYYY-MM>/<file>`: a month folder is one delivery. The data is
koku's real GCP export (public_data/koku/gcp/, Python-repr credits), its November 2020 moved to
October 2026 (the first month of the daily partitions), values unchanged.
"""

import csv
import datetime as dt
import io
import os
import re

import dagster as dg
import pytest
from dagster_gcp import GCSResource
from google.cloud import storage

from finops_assets.definitions import defs
from finops_assets.domain.sources import gcp_billing_export
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.gcs_sensor import gcs_export_sensor
from finops_assets.resources.gcs_exports import from_location
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.gcs_emulator import fake_gcs_server

pytestmark = pytest.mark.slow

SOURCE = "gcp_billing_export"
FILE = "202011_30c31bca571d9b7f3b2c8459dd8bc34a_2020-11-08_2020-11-11.csv"
START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
OCTOBER = ("2026-10-01", "2026-10-31")


@pytest.fixture(scope="module")
def gcs_url():
    """One emulator for the module; STORAGE_EMULATOR_HOST points google-cloud-storage at it."""
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    with fake_gcs_server() as url:
        os.environ["STORAGE_EMULATOR_HOST"] = url
        try:
            yield url
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture
def bucket(gcs_url, request, monkeypatch, tmp_path):
    monkeypatch.setenv("FINOPS_LAKE_URI", str(tmp_path / "lake"))
    name = f"billing-{abs(hash(request.node.name)) % 10**8}"
    monkeypatch.setenv("FINOPS_SOURCE_GCP_BILLING_EXPORT", f"gs://{name}/billing")
    return storage.Client().create_bucket(name)


@pytest.fixture
def export(shared_data) -> bytes:
    text = (shared_data / "koku" / "gcp" / FILE).read_text()
    return re.sub(r"202011", "202610", re.sub(r"2020-11", "2026-10", text)).encode()


def _put(bucket, name: str, data: bytes) -> None:
    bucket.blob(f"billing/{SOURCE}/2026-10/{name}").upload_from_string(data)


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"gcs": GCSResource(), "lake": LakeResource()},
        definitions=defs,
    )
    return gcs_export_sensor.evaluate_tick(context)


def _materialize(tmp_path, day: str) -> DeltaLake:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(gcp_billing_export)],
            partition_key=day,
            instance=instance,
            resources={
                "lake": LakeResource(),
                "landing": LandingResource(landing_dir=str(tmp_path / "empty")),
            },
        )
    assert result.success
    return DeltaLake(str(tmp_path / "lake"))


def test_a_month_file_is_one_delivery_started_from_the_archive(bucket, export, tmp_path):
    _put(bucket, "gcp-billing-2026-10.csv", export)
    payloads = from_location(f"gs://{bucket.name}/billing", Settings.from_env()).fetch(
        SOURCE, dt.date(2026, 10, 8)
    )
    assert [(p.name, p.data, p.period) for p in payloads] == [
        (
            f"{SOURCE}/2026-10/gcp-billing-2026-10.csv",
            export,
            (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        )
    ]
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        again = _tick(instance, first.cursor)
    [run] = first.run_requests
    assert (run.tags[START], run.tags[END]) == OCTOBER and run.partition_key is None
    assert not again.run_requests

    raw = _materialize(tmp_path, "2026-10-08").read_day(
        tables.raw_contract(gcp_billing_export), dt.date(2026, 10, 8)
    )
    rows = list(csv.DictReader(io.StringIO(export.decode())))
    assert raw.height == sum(r["usage_start_time"].startswith("2026-10-08") for r in rows) > 0

    with dg.instance_for_test() as instance:
        started = _tick(instance)  # first start over a lake that holds the delivery
        _put(bucket, "copy-of-gcp-billing-2026-10.csv", export)  # same bytes, another name
        duplicate = _tick(instance, started.cursor)
        _put(bucket, "gcp-billing-2026-10.csv", export.replace(b"2026-10-11", b"2026-10-12", 1))
        restated = _tick(instance, duplicate.cursor)
    assert not started.run_requests and "no new export files" in (started.skip_message or "")
    assert not duplicate.run_requests
    [rerun] = restated.run_requests
    assert (rerun.tags[START], rerun.tags[END]) == OCTOBER and rerun.run_key != run.run_key
