"""Export files in Azure Blob Storage: backend, raw asset and sensor against Azurite."""

import csv
import datetime as dt
import io
import os
import re
from decimal import Decimal

import dagster as dg
import pytest
from azure.storage.blob import BlobServiceClient

from finops_assets.definitions import defs
from finops_assets.domain.sources import azure_cost, focus_export
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.azure_blob_sensor import azure_blob_export_sensor
from finops_assets.resources.azure_blob_exports import (
    AzureBlobResource,
    blob_service_client,
    from_location,
)
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.sample import focus_export_writer
from finops_assets.settings import Settings, SettingsError
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.azurite import azurite_blob

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 10, 2)
SOURCE = "focus_export"


@pytest.fixture(scope="module")
def connection(tmp_path_factory):
    """Azurite for the module; AZURE_STORAGE_CONNECTION_STRING points the backend at it."""
    previous = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    with azurite_blob(tmp_path_factory.mktemp("azurite")) as connection_string:
        os.environ["AZURE_STORAGE_CONNECTION_STRING"] = connection_string
        try:
            yield connection_string
        finally:
            if previous is None:
                os.environ.pop("AZURE_STORAGE_CONNECTION_STRING", None)
            else:
                os.environ["AZURE_STORAGE_CONNECTION_STRING"] = previous


@pytest.fixture
def container(connection, request, monkeypatch, tmp_path):
    monkeypatch.setenv("FINOPS_LAKE_URI", str(tmp_path / "lake"))  # the archive sensors read
    name = f"exports-{abs(hash(request.node.name)) % 10**8}"
    monkeypatch.setenv("FINOPS_SOURCE_FOCUS_EXPORT", f"az://{name}/cost")
    return BlobServiceClient.from_connection_string(connection).create_container(name)


def _put(container, day, name, data: bytes):
    container.upload_blob(f"cost/{SOURCE}/{day}/{name}", data, overwrite=True)


def _materialize_raw(lake, landing):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(focus_export)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": LakeResource(lake_uri=str(lake)),
                "landing": LandingResource(landing_dir=str(landing)),
            },
        )
    assert result.success
    return DeltaLake(str(lake)).read_day(tables.raw_contract(focus_export), DAY)


def test_raw_asset_ingests_a_focus_export_from_blob_with_landing_totals(
    container, tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    paths = focus_export_writer.write_day(landing, DAY, seed=3, rows_per_day=400)
    for path in paths:
        _put(container, DAY, path.name, path.read_bytes())
    from_blob = _materialize_raw(tmp_path / "lake_blob", tmp_path / "empty")
    monkeypatch.delenv("FINOPS_SOURCE_FOCUS_EXPORT")
    from_landing = _materialize_raw(tmp_path / "lake_landing", landing)
    assert from_blob.height == from_landing.height == 400
    assert focus_export.billed_totals(from_blob).equals(focus_export.billed_totals(from_landing))
    archive = tmp_path / "lake_blob" / "_raw_archive" / SOURCE / DAY.isoformat()
    assert sorted(f.read_bytes() for f in archive.iterdir()) == sorted(
        p.read_bytes() for p in paths
    )


def test_fetch_reads_only_the_day_folder_with_the_last_modified_time(container):
    _put(container, DAY, "a.csv", b"one")
    _put(container, DAY, "nested/b.csv", b"deeper")
    _put(container, DAY + dt.timedelta(days=1), "c.csv", b"other day")
    source = from_location(f"az://{container.container_name}/cost", Settings.from_env())
    payloads = source.fetch(SOURCE, DAY)
    assert [(p.name, p.data) for p in payloads] == [(f"{SOURCE}/{DAY}/a.csv", b"one")]
    modified = container.get_blob_client(f"cost/{SOURCE}/{DAY}/a.csv").get_blob_properties()
    assert payloads[0].fetched_at == modified.last_modified.replace(microsecond=0)


def test_missing_credentials_say_what_to_set():
    with pytest.raises(SettingsError, match="AZURE_STORAGE_CONNECTION_STRING"):
        blob_service_client({})


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        # AZURE_STORAGE_* are read when the resource is used
        resources={"lake": LakeResource(), "azure_blob": AzureBlobResource()},
        definitions=defs,
    )
    return azure_blob_export_sensor.evaluate_tick(context)


def test_sensor_one_run_per_day_duplicates_kept_restatements_rerun(container):
    _put(container, "2026-10-01", "a.csv", b"v1")
    _put(container, "2026-10-02", "a.csv", b"x")
    _put(container, "1999-01-01", "a.csv", b"outside the partitions")
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        _put(container, "2026-10-01", "a.csv", b"v1")  # duplicate delivery: new ETag, same bytes
        duplicate = _tick(instance, first.cursor)
        _put(container, "2026-10-01", "a.csv", b"v2")  # restated
        restated = _tick(instance, duplicate.cursor)
        unchanged = _tick(instance, restated.cursor)
    by_day = {r.partition_key: r.run_key for r in first.run_requests}
    assert sorted(by_day) == ["2026-10-01", "2026-10-02"]
    assert [r.run_key for r in duplicate.run_requests] == [by_day["2026-10-01"]]
    assert [r.partition_key for r in restated.run_requests] == ["2026-10-01"]
    assert restated.run_requests[0].run_key != by_day["2026-10-01"]
    assert not unchanged.run_requests
    assert "no new export files" in (unchanged.skip_message or "")


def test_the_same_bytes_under_another_name_keep_the_days_run_key(container):
    _put(container, "2026-10-01", "a.csv", b"v1")
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        _put(container, "2026-10-01", "a-copy.csv", b"v1")  # a copy before the run archived a.csv
        copy = _tick(instance, first.cursor)
    [run] = first.run_requests
    assert [r.run_key for r in copy.run_requests] == [run.run_key]  # Dagster skips it


def test_sensor_skips_without_an_az_source(monkeypatch):
    monkeypatch.delenv("FINOPS_SOURCE_FOCUS_EXPORT", raising=False)
    with dg.instance_for_test() as instance:
        result = _tick(instance)
    assert "no source is read from az://" in (result.skip_message or "")


def test_an_azure_cost_export_csv_in_blob_lands_in_the_azure_cost_table(
    container, tmp_path, monkeypatch, shared_data
):
    koku = (shared_data / "koku" / "azure" / "azure_version_2.csv").read_text()
    export = re.sub(r"2020-09-\d\d", DAY.isoformat(), koku).encode()  # moved into the partitions
    container.upload_blob(f"cost/azure_cost/{DAY}/part_0_0001.csv", export)
    monkeypatch.setenv("FINOPS_SOURCE_AZURE_COST", f"az://{container.container_name}/cost")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(azure_cost)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": LakeResource(lake_uri=str(tmp_path / "lake")),
                "landing": LandingResource(landing_dir=str(tmp_path / "empty")),
            },
        )
    assert result.success
    raw = DeltaLake(str(tmp_path / "lake")).read_day(tables.raw_contract(azure_cost), DAY)
    records = list(csv.DictReader(io.StringIO(koku)))
    assert raw.height == len(records) == 5
    expected = sum(Decimal(r["CostInBillingCurrency"]) for r in records)
    assert dict(azure_cost.billed_totals(raw).iter_rows()) == {"MC": expected}


def test_the_registered_azure_resource_serves_the_reads(
    container, connection, tmp_path, monkeypatch
):
    """The raw asset reads with the AzureBlobResource handed to the landing resource (as
    definitions.py does with the registered `azure_blob`), none of it from the environment."""
    _put(container, DAY, "a.csv", focus_export_writer_bytes(tmp_path))
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.delenv("FINOPS_SOURCE_FOCUS_EXPORT")
    location = {SOURCE: f"az://{container.container_name}/cost"}
    landing = LandingResource(
        landing_dir=str(tmp_path / "empty"),
        locations=location,
        azure_blob=AzureBlobResource(connection_string=connection),
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(focus_export)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={"lake": LakeResource(lake_uri=str(tmp_path / "lake")), "landing": landing},
        )
    assert result.success
    raw = DeltaLake(str(tmp_path / "lake")).read_day(tables.raw_contract(focus_export), DAY)
    assert raw.height == 20
    unconfigured = LandingResource(landing_dir=str(tmp_path / "empty"), locations=location)
    with pytest.raises(SettingsError, match="AZURE_STORAGE_CONNECTION_STRING"):
        unconfigured.payloads(SOURCE).fetch(SOURCE, DAY)


def focus_export_writer_bytes(tmp_path) -> bytes:
    (path,) = focus_export_writer.write_day(tmp_path / "gen", DAY, seed=4, rows_per_day=20)
    return path.read_bytes()
