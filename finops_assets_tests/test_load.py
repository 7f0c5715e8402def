"""`finops load`: real public export files, as downloaded, through the whole graph; per day and
currency, file total = normalized + quarantined, exactly. The command runs as a user runs it (a
process of its own, a fresh FINOPS_HOME); FX rates come from an ECB-format server on 127.0.0.1.
"""

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.cli import main
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.ecb import HISTORY_PATH, ecb_site, history_zip

TEN_DECIMALS = Decimal("1e-10")
PUBLIC_FILES = (
    "koku/aws/test_cur.csv",
    "koku/azure/azure_version_2.csv",
    "koku/gcp/2022-08-01_5.csv",
    "koku/gcp/2024-03-01_5.csv",
    "focus-sample-data/FOCUS-1.0/focus_sample.csv",
    "focus-spec-examples/commitment_discount_scenarios_index",
)


def _load(home: Path, paths: list[Path], ecb_url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FINOPS_HOME": str(home),
        "FINOPS_ECB_BASE_URL": ecb_url,
        "FINOPS_FX_WAIT_RETRIES": "0",
        # koku's Azure file bills 5 rows in 'MC', not an ISO currency: quarantined, with amount.
        # The quality gate (quarantined share) is tested elsewhere; here every amount must be
        # accounted for.
        "FINOPS_QUARANTINE_MAX_SHARE": "1",
    }
    env.pop("FINOPS_PARTITIONS_START", None)
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "finops_assets.cli", "load", *map(str, paths)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)


def _focus_file_totals(path: Path) -> dict[tuple[dt.date, str], Decimal]:
    """Per charge day (UTC) and billing currency, sum(BilledCost), with Python's csv and decimal.

    Each amount is rounded half-up at the 10th decimal first: the stored scale (MONEY).
    """
    totals: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["ChargePeriodStart"][:10])
            amount = Decimal(row["BilledCost"] or "0").quantize(TEN_DECIMALS, ROUND_HALF_UP)
            totals[(day, row["BillingCurrency"])] += amount
    return dict(totals)


def _lake_totals(lake: DeltaLake, days: list[dt.date]) -> dict[tuple[dt.date, str], Decimal]:
    """Per day and currency: normalized BilledCost plus quarantined amounts, from the Delta tables."""
    totals: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    for row in lake.read_days(tables.NORMALIZED_COSTS, days).iter_rows(named=True):
        totals[(row["x_charge_date"], row["BillingCurrency"])] += row["BilledCost"]
    for row in lake.read_days(tables.QUARANTINE, days).iter_rows(named=True):
        totals[(row["x_charge_date"], row["x_currency"])] += Decimal(row["x_amount"] or "0")
    return dict(totals)


@pytest.mark.slow
def test_public_exports_reconcile_per_day_and_currency(tmp_path, shared_data):
    paths = [shared_data / p for p in PUBLIC_FILES]
    real_history = (shared_data / "reference-fx-currency" / "ecb-eurofxref-hist.csv").read_text()
    with ecb_site() as (base_url, feed):
        feed.files[HISTORY_PATH] = history_zip(real_history)
        done = _load(tmp_path / "home", paths, base_url)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "finops load: reconciled exactly" in done.stdout
    assert "NOT RECONCILED" not in done.stdout
    for day_line in ("2018-06-01  USD", "2020-09-01", "2022-08-01  USD", "2024-09-30  USD"):
        assert day_line in done.stdout
    assert "normalized_costs: 1 x unknown currency code 'MC' in BillingCurrency" in done.stdout
    # Independently of the command's own report: the FOCUS sample, summed with Python decimal,
    # against what the lake holds for its 30 days.
    focus = _focus_file_totals(shared_data / PUBLIC_FILES[4])
    september = sorted({day for day, _ in focus})
    lake = DeltaLake(str(tmp_path / "home" / "lake"))
    assert _lake_totals(lake, september) == focus
    normalized = lake.read_days(tables.NORMALIZED_COSTS, september)
    assert normalized.height > 0 and normalized["x_source"].unique().to_list() == ["focus_export"]


def test_an_unsupported_file_is_refused_in_one_clear_line(
    tmp_path, shared_data, capsys, monkeypatch
):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "home"))
    pod_usage = next((shared_data / "koku" / "ocp").glob("*_storage.csv"))
    assert main(["load", str(pod_usage)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert error.startswith(f"finops load: {pod_usage}: not a billing file we recognise")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert main(["load", str(notes)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"finops load: {notes}: not an export file (expected .csv, .csv.gz, .parquet or a "
        "manifest .json)"
    )
    assert not (tmp_path / "home" / "landing").exists()  # nothing was laid out


def test_a_cut_file_is_refused_naming_it_before_anything_is_written(
    tmp_path, shared_data, capsys, monkeypatch
):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "home"))
    data = (shared_data / PUBLIC_FILES[4]).read_bytes()
    cut = tmp_path / "focus_sample.csv"
    cut.write_bytes(data[: len(data) - 25])
    assert main(["load", str(cut)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"finops load: {cut}: the last row (line 1001) ends inside a quoted")
    assert not (tmp_path / "home" / "landing").exists()


def test_a_manifest_listing_more_rows_than_delivered_is_refused(
    tmp_path, shared_data, capsys, monkeypatch
):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path / "home"))
    run = tmp_path / "exports" / "focus-daily" / "20240901-20240930" / "run-7"
    run.mkdir(parents=True)
    (run / "part_0_0001.csv").write_bytes((shared_data / PUBLIC_FILES[4]).read_bytes())
    (run / "manifest.json").write_text(
        '{"exportConfig": {"exportName": "focus-daily"}, '
        '"blobs": [{"blobName": "part_0_0001.csv", "dataRowCount": 1001}]}'
    )
    assert main(["load", str(tmp_path / "exports")]) == 2
    error = capsys.readouterr().err.strip()
    assert (
        error
        == "finops load: part_0_0001.csv: 1000 data rows, "
        + str(run / "manifest.json")
        + " lists 1001"
    )


def test_month_to_date_files_of_two_runs_never_mix_the_newest_wins(tmp_path, shared_data):
    from finops_assets.loading.plan import plan_deliveries

    data = (shared_data / PUBLIC_FILES[4]).read_bytes()
    older = tmp_path / "export" / "20240901-20240930" / "run-z" / "part_0_0001.csv"
    newer = tmp_path / "export" / "20240901-20240930" / "run-b" / "part_0_0001.csv"
    for path, content in ((older, data.replace(b"USD", b"EUR")), (newer, data)):
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))
    [delivery] = plan_deliveries([tmp_path / "export"])
    assert [f.path for f in delivery.files] == [newer]
    assert delivery.skipped == [f"{older}: superseded by {newer}"]


def test_a_restated_delivery_replaces_the_exports_period_folder_and_reruns_its_old_days(
    tmp_path, shared_data
):
    from finops_assets.loading.plan import plan_deliveries
    from finops_assets.loading.run import lay_out

    data = (shared_data / PUBLIC_FILES[4]).read_bytes()
    landing = tmp_path / "landing"
    first = tmp_path / "first" / "focus.csv"
    first.parent.mkdir()
    first.write_bytes(data)
    assert lay_out(plan_deliveries([first]), landing) == set()
    # The restatement no longer has 2024-09-30's rows.
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    restated = tmp_path / "second" / "focus.csv"
    restated.parent.mkdir()
    with restated.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(r for r in rows if not r["ChargePeriodStart"].startswith("2024-09-30"))
    [delivery] = plan_deliveries([restated])
    assert delivery.period == (dt.date(2024, 9, 1), dt.date(2024, 9, 29))
    replaced = lay_out([delivery], landing)
    assert dt.date(2024, 9, 30) in replaced and len(replaced) == 30
    folders = sorted(p.relative_to(landing).as_posix() for p in landing.glob("*/*/*"))
    assert folders == ["focus_export/20240901-20240929/focus"]


def test_runs_of_one_export_are_recognised_by_folder_or_by_name():
    from finops_assets.loading.plan import export_name

    guid = "3d1f0c47-6b5e-4c55-9d8c-2b1a0e9f7a11"
    assert export_name(Path(f"/x/costs/daily/20240901-20240930/{guid}/part_0_0001.csv")) == "daily"
    assert export_name(Path("/x/costs/daily/20240901-20240930/part_0_0001.csv")) == "daily"
    assert export_name(Path(f"/x/DailyExport_{guid}.csv")) == "DailyExport"
    assert export_name(Path("/x/cost_20240105.csv.gz")) == "cost"
    assert export_name(Path("/downloads/focus_sample.csv")) == "focus_sample"


def test_today_is_not_a_complete_day_it_waits_for_the_next_load():
    from finops_assets.loading.run import split_complete_days

    today = dt.datetime.now(dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)
    complete, pending = split_complete_days({yesterday, today})
    assert complete == {yesterday}
    assert pending == [today]


AZURE_EA = "finops-toolkit/exports/EA_{}Cost_Small.csv"


def _azure_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _is_commitment(row: dict[str, str], charge_types: tuple[str, ...]) -> bool:
    return row["ChargeType"] in charge_types and row["PricingModel"] in (
        "Reservation",
        "SavingsPlan",
    )


def _microsoft_totals(actual: list[dict], amortized: list[dict]) -> dict[tuple, Decimal]:
    """Per (day, currency, column): Microsoft's method with Python's csv and decimal.

    All amortized rows + the actual export's commitment purchases and refunds; BilledCost 0 on
    commitment-covered usage, EffectiveCost 0 on commitment purchases and refunds (convert.md).
    """
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    kept = amortized + [r for r in actual if _is_commitment(r, ("Purchase", "Refund"))]
    for row in kept:
        day = dt.datetime.strptime(row["Date"], "%m/%d/%Y").date()  # noqa: DTZ007 (a date)
        cost = Decimal(row["Cost"]).quantize(TEN_DECIMALS, ROUND_HALF_UP)
        key = (day, row["BillingCurrency"])
        billed = Decimal(0) if _is_commitment(row, ("Usage",)) else cost
        effective = Decimal(0) if _is_commitment(row, ("Purchase", "Refund")) else cost
        totals[(*key, "BilledCost")] += billed
        totals[(*key, "EffectiveCost")] += effective
    return dict(totals)


def _lake_money(lake: DeltaLake, days: list[dt.date]) -> dict[tuple, Decimal]:
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in lake.read_days(tables.NORMALIZED_COSTS, days).iter_rows(named=True):
        for column in ("BilledCost", "EffectiveCost"):
            totals[(row["x_charge_date"], row["BillingCurrency"], column)] += row[column]
    return dict(totals)


@pytest.mark.slow
def test_azure_actual_and_amortized_exports_of_the_same_days_count_once(tmp_path, shared_data):
    """Both EA exports through `finops load`: Microsoft's method, nothing twice, nothing lost."""
    from finops_assets.domain.sources.azure_datasets import COUNTED_IN_AMORTIZED

    files = [shared_data / AZURE_EA.format(kind) for kind in ("Actual", "Amortized")]
    actual, amortized = (_azure_rows(p) for p in files)
    real_history = (shared_data / "reference-fx-currency" / "ecb-eurofxref-hist.csv").read_text()
    with ecb_site() as (base_url, feed):
        feed.files[HISTORY_PATH] = history_zip(real_history)
        done = _load(tmp_path / "home", files, base_url)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "finops load: reconciled exactly" in done.stdout, done.stdout[-3000:]
    expected = _microsoft_totals(actual, amortized)
    days = sorted({key[0] for key in expected})
    lake = DeltaLake(str(tmp_path / "home" / "lake"))
    assert _lake_money(lake, days) == expected
    normalized = lake.read_days(tables.NORMALIZED_COSTS, days)
    assert normalized.height == 28 + 1  # every amortized row and the reservation purchase
    assert normalized["x_source_row_key"].is_unique().all()
    # The ten actual usage rows the amortized export also holds: recorded, with amounts.
    aside = lake.read_days(tables.QUARANTINE, days).filter(
        pl.col("x_reason") == COUNTED_IN_AMORTIZED
    )
    assert aside.height == 10
    assert sum(Decimal(a) for a in aside["x_amount"]) == sum(
        Decimal(r["Cost"]).quantize(TEN_DECIMALS, ROUND_HALF_UP)
        for r in actual
        if r["ChargeType"] == "Usage"
    )
    assert COUNTED_IN_AMORTIZED in done.stdout  # the load report shows them, with the reason
    # The invoice: on the purchase day, BilledCost is the actual export's total.
    purchase_day = dt.date(2023, 9, 21)
    invoice = sum(Decimal(r["Cost"]) for r in actual if r["Date"] == "09/21/2023")
    assert expected[(purchase_day, "USD", "BilledCost")] == invoice == Decimal("3.25")
