"""An Azure export's dataset comes from its run's manifest (`exportConfig.type`) first.

Cost Management names the dataset of every part of a run in the run's `manifest.json`; a
split export's parts are named `part_<n>_<m>.csv` and its folders after the export, so neither
the path nor, for a month of on-demand usage, the rows tell actual from amortized. Read through
the real landing folder, archive and pipeline: the public EA actual export's on-demand rows
(FinOps toolkit), split in two parts, next to the EA amortized export of the same days, each run
with its manifest, count once (Microsoft's method); nothing is set aside without its amount.
"""

import csv
import datetime as dt
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain.deliveries import read_manifest
from finops_assets.domain.sources import azure_cost
from finops_assets.domain.sources.azure_datasets import (
    ACTUAL,
    AMORTIZED,
    dataset_of_export,
    split_counted_once,
)
from finops_assets.ingest.pipeline import ingest_payloads
from finops_assets.resources.payloads import LandingFolder
from finops_assets.storage.archive import RawArchive

EA = "finops-toolkit/exports/EA_{}Cost_Small.csv"
PERIOD = "azure_cost/20230901-20230930"
FETCHED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _records(shared_data: Path, kind: str) -> tuple[list[str], list[dict]]:
    text = (shared_data / EA.format(kind)).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], records: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode()


def _run(landing: Path, export: str, export_type: str | None, parts: list[bytes]) -> list[str]:
    """One export run in the landing layout: its parts and (unless None) its manifest."""
    folder = landing / PERIOD / export
    folder.mkdir(parents=True)
    names = [f"part_{n}_0001.csv" for n in range(len(parts))]
    for name, data in zip(names, parts, strict=True):
        (folder / name).write_bytes(data)
    if export_type is not None:
        blobs = [
            {"blobName": f"exports/{export}/20230901-20230930/run-1/{name}", "byteCount": len(d)}
            for name, d in zip(names, parts, strict=True)
        ]
        config = {"exportName": export, "type": export_type, "timeFrame": "MonthToDate"}
        manifest = {"manifestVersion": "2024-04-01", "exportConfig": config, "blobs": blobs}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return [f"{PERIOD}/{export}/{name}" for name in names]


@pytest.fixture
def on_demand_parts(shared_data) -> tuple[list[bytes], list[dict]]:
    """The actual export's on-demand rows in two parts (what a split export writes)."""
    header, records = _records(shared_data, "Actual")
    on_demand = [r for r in records if r["PricingModel"] == "OnDemand"]
    assert len(on_demand) >= 2
    half = len(on_demand) // 2
    return [_csv(header, on_demand[:half]), _csv(header, on_demand[half:])], on_demand


def _day_rows(landing: Path, tmp_path: Path, day: dt.date) -> pl.DataFrame:
    payloads = LandingFolder(landing).fetch("azure_cost", day)
    return ingest_payloads(azure_cost, payloads, day, RawArchive(str(tmp_path / "lake"))).rows


def test_the_manifest_names_the_dataset_of_every_part_of_its_run(tmp_path, on_demand_parts):
    parts, _ = on_demand_parts
    landing = tmp_path / "landing"
    names = _run(landing, "costs-daily", "ActualCost", parts)
    # neither the path nor the rows tell this export's dataset
    for name, data in zip(names, parts, strict=True):
        rows = azure_cost.parse(data, source_file=name, ingestion_key="k", fetched_at=FETCHED)
        assert dataset_of_export(name, rows.rows) is None
    manifest = read_manifest((landing / PERIOD / "costs-daily" / "manifest.json").read_bytes(), "m")
    assert manifest.dataset == ACTUAL
    days = sorted({dt.datetime.strptime(r["Date"], "%m/%d/%Y").date() for r in on_demand_parts[1]})  # noqa: DTZ007
    rows = pl.concat([_day_rows(landing, tmp_path, day) for day in days])
    assert rows.height == len(on_demand_parts[1])
    assert set(rows["export_dataset"]) == {ACTUAL}
    assert set(rows["x_source_file"]) == set(names)  # both parts


def test_a_split_actual_export_next_to_the_amortized_one_counts_once(
    tmp_path, shared_data, on_demand_parts
):
    parts, on_demand = on_demand_parts
    header, amortized = _records(shared_data, "Amortized")
    landing = tmp_path / "landing"
    _run(landing, "costs-daily", "ActualCost", parts)
    _run(landing, "costs-shared", "AmortizedCost", [_csv(header, amortized)])
    days = sorted({dt.datetime.strptime(r["Date"], "%m/%d/%Y").date() for r in on_demand})  # noqa: DTZ007
    for day in days:
        rows = _day_rows(landing, tmp_path, day)
        counted, aside = split_counted_once(rows)
        us_date = f"{day:%m/%d/%Y}"
        expected = [r for r in amortized if r["Date"] == us_date]
        actual = [r for r in on_demand if r["Date"] == us_date]
        assert counted.height == len(expected), day  # the amortized rows, not the actual twice
        assert set(counted["export_dataset"]) == {AMORTIZED}
        assert aside.height == len(actual) and set(aside["export_dataset"]) == {ACTUAL}
        stored = (Decimal(r["Cost"]).quantize(Decimal("1e-10"), ROUND_HALF_UP) for r in actual)
        assert sum(aside["cost"], Decimal(0)) == sum(stored)  # set aside with their amounts
