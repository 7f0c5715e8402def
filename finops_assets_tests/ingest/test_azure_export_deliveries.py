"""Azure Cost Management exports in Blob Storage (Azurite), laid out as Azure writes them.

`<dir>/<export>/<YYYYMMDD-YYYYMMDD>/<run id>/part_0_0001.csv` with the run's `manifest.json`
(blobs with byteCount and dataRowCount); legacy exports write one CSV per run directly in the
period folder. The newest run is the delivery. The data is koku's real exports
(public_data/koku/azure/), their month moved to October 2026 (the first month of the daily
partitions), values unchanged.
"""

import csv
import datetime as dt
import io
import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import pytest
from azure.storage.blob import BlobServiceClient

from finops_assets.definitions import defs
from finops_assets.domain.deliveries import IncompleteDeliveryError
from finops_assets.domain.sources import azure_cost
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.azure_blob_sensor import azure_blob_export_sensor
from finops_assets.resources.azure_blob_exports import AzureBlobResource, from_location
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.azurite import azurite_blob

pytestmark = pytest.mark.slow

EXPORT = "exports/acme-actual"
PERIOD = "20261001-20261031"  # Azure: first and last day, inclusive
START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
OCTOBER = ("2026-10-01", "2026-10-31")


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
    name = f"cost-{abs(hash(request.node.name)) % 10**8}"
    monkeypatch.setenv("FINOPS_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("FINOPS_SOURCE_AZURE_COST", f"az://{name}/{EXPORT}?layout=exports")
    return BlobServiceClient.from_connection_string(connection).create_container(name)


@pytest.fixture
def export_text(shared_data) -> str:
    text = (shared_data / "koku" / "azure" / "azure_version_2.csv").read_text(encoding="utf-8")
    return re.sub(r"2020-09", "2026-10", text)


def _run(container, run_id: str, parts: dict[str, bytes], listed: list[str] | None = None):
    """One export run: its parts, then its manifest (as Azure writes them)."""
    folder = f"{EXPORT}/{PERIOD}/{run_id}"
    for name, body in parts.items():
        container.upload_blob(f"{folder}/{name}", body, overwrite=True)
    blobs = [
        {
            "blobName": f"{folder}/{name}",
            "byteCount": len(parts.get(name, b"")),
            "dataRowCount": max(len(parts.get(name, b"").decode().splitlines()) - 1, 0),
        }
        for name in (listed or parts)
    ]
    manifest = {
        "manifestVersion": "2024-04-01",
        "blobCount": len(blobs),
        "exportConfig": {"exportName": "acme-actual", "type": "ActualCost"},
        "runInfo": {"runId": run_id, "startDate": "2026-10-01T00:00:00"},
        "blobs": blobs,
    }
    container.upload_blob(f"{folder}/manifest.json", json.dumps(manifest).encode(), overwrite=True)


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"lake": LakeResource(), "azure_blob": AzureBlobResource()},
        definitions=defs,
    )
    return azure_blob_export_sensor.evaluate_tick(context)


def _with_cost_added(text: str, added: int) -> str:
    records = list(csv.DictReader(io.StringIO(text)))
    for record in records:
        record["CostInBillingCurrency"] = str(Decimal(record["CostInBillingCurrency"]) + added)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def _day_total(text: str, day: str) -> tuple[int, dict[str, Decimal]]:
    """Rows and per-currency cost of one day, each amount rounded half-up once at 1e-10."""
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["Date"] == day]
    totals: dict[str, Decimal] = {}
    for row in rows:
        amount = Decimal(row["CostInBillingCurrency"]).quantize(Decimal("1e-10"), ROUND_HALF_UP)
        currency = row["BillingCurrencyCode"]
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return len(rows), totals


def _materialize_first_day(tmp_path) -> DeltaLake:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(azure_cost)],
            partition_key=OCTOBER[0],
            instance=instance,
            resources={
                "lake": LakeResource(),
                "landing": LandingResource(landing_dir=str(tmp_path / "empty")),
            },
        )
    assert result.success
    return DeltaLake(str(tmp_path / "lake"))


def test_the_newest_run_is_the_delivery_and_runs_start_from_the_archive(
    container, export_text, tmp_path
):
    superseded = _with_cost_added(export_text, 1000).encode()
    _run(container, "run-1", {"part_0_0001.csv": superseded})
    current = export_text.encode()
    _run(container, "run-2", {"part_0_0001.csv": current})
    location = f"az://{container.container_name}/{EXPORT}?layout=exports"
    payloads = from_location(location, Settings.from_env()).fetch(
        "azure_cost", dt.date(2026, 10, 9)
    )
    # the part's name and path say nothing of its dataset: the run's manifest does
    assert [(p.name, p.data, p.vouched, p.dataset) for p in payloads] == [
        (f"azure_cost/{PERIOD}/part_0_0001.csv", current, True, "ActualCost")
    ]
    with dg.instance_for_test() as instance:
        first = _tick(instance)
        again = _tick(instance, first.cursor)
    [run] = first.run_requests
    assert (run.tags[START], run.tags[END]) == OCTOBER and run.partition_key is None
    assert not again.run_requests

    raw = _materialize_first_day(tmp_path).read_day(
        tables.raw_contract(azure_cost), dt.date(2026, 10, 1)
    )
    rows, totals = _day_total(export_text, OCTOBER[0])
    assert raw.height == rows > 0  # run-1's rows never mix in
    assert set(raw["export_dataset"]) == {"ActualCost"}
    assert dict(azure_cost.billed_totals(raw).iter_rows()) == totals

    with dg.instance_for_test() as instance:
        started = _tick(instance)  # first start over a lake that holds the delivery
        _run(container, "run-3", {"part_0_0002.csv": current})  # same bytes, another name
        duplicate = _tick(instance, started.cursor)
        _run(container, "run-4", {"part_0_0001.csv": _with_cost_added(export_text, 1).encode()})
        restated = _tick(instance, duplicate.cursor)
    assert not started.run_requests and "no new export files" in (started.skip_message or "")
    assert not duplicate.run_requests
    [rerun] = restated.run_requests
    assert (rerun.tags[START], rerun.tags[END]) == OCTOBER and rerun.run_key != run.run_key


def test_a_manifest_listing_a_missing_part_asks_for_a_run_that_fails_naming_it(
    container, export_text
):
    _run(
        container,
        "run-9",
        {"part_0_0001.csv": export_text.encode()},
        listed=["part_0_0001.csv", "part_1_0001.csv"],
    )
    with dg.instance_for_test() as instance:
        [run] = _tick(instance).run_requests
    assert (run.tags[START], run.tags[END]) == OCTOBER
    location = f"az://{container.container_name}/{EXPORT}?layout=exports"
    with pytest.raises(IncompleteDeliveryError, match="part_1_0001.csv: listed in az://"):
        from_location(location, Settings.from_env()).fetch("azure_cost", dt.date(2026, 10, 1))


def test_a_legacy_export_writes_one_file_per_run_and_the_newest_wins(container, shared_data):
    name = "costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv"
    text = (shared_data / "koku" / "azure" / name).read_bytes()
    text = re.sub(rb"2019-07", b"2026-10", text)
    folder = f"{EXPORT}/{PERIOD}"
    container.upload_blob(f"{folder}/acme_1a2b.csv", text.replace(b"COSTMGMT", b"OLDRUN"))
    container.upload_blob(f"{folder}/acme_9f8e.csv", text)
    location = f"az://{container.container_name}/{EXPORT}?layout=exports"
    payloads = from_location(location, Settings.from_env()).fetch(
        "azure_cost", dt.date(2026, 10, 29)
    )
    assert [(p.name, p.data, p.vouched, p.dataset) for p in payloads] == [
        (f"azure_cost/{PERIOD}/acme_9f8e.csv", text, False, None)
    ]
    with dg.instance_for_test() as instance:
        [run] = _tick(instance).run_requests
    assert (run.tags[START], run.tags[END]) == OCTOBER
