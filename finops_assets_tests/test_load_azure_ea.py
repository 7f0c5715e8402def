"""Azure EA actual and amortized exports of the same days, both through `finops load`:
Microsoft's method (convert.md), nothing counted twice, nothing lost; totals summed here with
Python's csv and decimal against what the lake holds.
"""

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.public_loads import TEN_DECIMALS, load_with_real_fx

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
    report = load_with_real_fx(tmp_path / "home", files, shared_data)
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
    assert COUNTED_IN_AMORTIZED in report  # the load report shows them, with the reason
    # The invoice: on the purchase day, BilledCost is the actual export's total.
    purchase_day = dt.date(2023, 9, 21)
    invoice = sum(Decimal(r["Cost"]) for r in actual if r["Date"] == "09/21/2023")
    assert expected[(purchase_day, "USD", "BilledCost")] == invoice == Decimal("3.25")
