"""Money a fault lost or duplicated: the landing files' content against the lake after recovery.

The truth of a day is what its billing files really hold: every file of the untouched estate
(kept apart from the landing folder the faults damage) parsed by its source's own parser and
totalled per billing currency. The lake's side is `normalized_costs` and `allocated_costs`
(BilledCost per day and billing currency), plus money the quarantine holds with its amount.
A shortfall at either stage is money lost; an excess is money duplicated.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from finops_assets.sample.generate import day_files
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

Totals = dict[tuple[dt.date, str], Decimal]
FETCHED_AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def landing_truth(landing: Path, days: list[dt.date]) -> Totals:
    """Per (day, billing currency): the money the billing files of those days state."""
    totals: Totals = defaultdict(Decimal)
    for source in BILLING_SOURCES:
        for day in days:
            for path in day_files(landing, source.SOURCE, day):
                parsed = source.parse(
                    path.read_bytes(),
                    source_file=path.name,
                    ingestion_key=f"truth-{path.name}",
                    fetched_at=FETCHED_AT,
                )
                rows = parsed.rows.filter(pl.col("x_charge_date") == day)
                for row in source.billed_totals(rows).iter_rows(named=True):
                    totals[(day, row["currency"])] += Decimal(str(row["amount"]))
                _add_quarantined(totals, parsed.quarantine, day)
    return dict(totals)


def _add_quarantined(totals: Totals, quarantine: pl.DataFrame, day: dt.date) -> None:
    for row in quarantine.iter_rows(named=True):
        amount = _decimal(row.get("x_amount"))
        if amount is not None and row.get("x_currency"):
            totals[(day, row["x_currency"])] += amount


def _decimal(text: object) -> Decimal | None:
    try:
        return Decimal(str(text)) if text not in (None, "") else None
    except InvalidOperation:
        return None


def lake_totals(lake: DeltaLake, contract_name: str, days: list[dt.date]) -> Totals:
    """Per (day, billing currency): BilledCost of one stage's table plus the day's quarantine."""
    contract = {"normalized_costs": tables.NORMALIZED_COSTS}.get(
        contract_name, tables.ALLOCATED_COSTS
    )
    totals: Totals = defaultdict(Decimal)
    if lake.exists(contract):
        frame = (
            lake.scan(contract)
            .filter(pl.col("x_charge_date").is_in(days))
            .group_by("x_charge_date", "BillingCurrency")
            .agg(pl.col("BilledCost").sum())
            .collect()
        )
        for day, currency, amount in frame.iter_rows():
            totals[(day, currency)] += Decimal(str(amount))
    if lake.exists(tables.QUARANTINE):
        quarantine = lake.scan(tables.QUARANTINE).filter(pl.col("x_charge_date").is_in(days))
        for day in days:
            _add_quarantined(
                totals, quarantine.filter(pl.col("x_charge_date") == day).collect(), day
            )
    return dict(totals)


def lost_and_duplicated(
    truth: Totals, observed: Totals
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Per currency: money missing from `observed` and money in excess of `truth` (both >= 0)."""
    lost: dict[str, Decimal] = defaultdict(Decimal)
    duplicated: dict[str, Decimal] = defaultdict(Decimal)
    for key in set(truth) | set(observed):
        difference = observed.get(key, Decimal(0)) - truth.get(key, Decimal(0))
        if difference < 0:
            lost[key[1]] += -difference
        elif difference > 0:
            duplicated[key[1]] += difference
    return dict(lost), dict(duplicated)


def stage_balance(
    lake: DeltaLake, truth: Totals, days: list[dt.date]
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """The worst of normalized_costs and allocated_costs: lost and duplicated per currency."""
    worst_lost: dict[str, Decimal] = {}
    worst_dup: dict[str, Decimal] = {}
    for stage in ("normalized_costs", "allocated_costs"):
        lost, duplicated = lost_and_duplicated(truth, lake_totals(lake, stage, days))
        for currency, amount in lost.items():
            worst_lost[currency] = max(worst_lost.get(currency, Decimal(0)), amount)
        for currency, amount in duplicated.items():
            worst_dup[currency] = max(worst_dup.get(currency, Decimal(0)), amount)
    return worst_lost, worst_dup


def describe(amounts: dict[str, Decimal]) -> str:
    """`0` when nothing, else `USD 12.34, EUR 0.0000000001` (exact, trailing zeros dropped)."""
    shown = [f"{c} {_plain(a)}" for c, a in sorted(amounts.items()) if a != 0]
    return ", ".join(shown) if shown else "0"


def _plain(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")
