"""What a candidate rule file would change: per day and business unit, before, after, delta.

"Before" is the booked allocation (the allocated_costs rows of the day); "after" is the same
normalized rows allocated with the candidate's version for that day. Both sides conserve the
day's normalized money exactly, so per day the afters add up to the befores and the deltas
to zero.
"""

import datetime as dt

import polars as pl

from finops_assets.domain.allocate import allocate_costs
from finops_assets.domain.audit import unit_totals
from finops_assets.domain.money import MONEY
from finops_assets.domain.rule_history import RuleHistory

KEYS = ["x_charge_date", "x_business_unit", "x_base_currency"]
AMOUNTS = ("billed_cost", "effective_cost")
PREVIEW_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_business_unit": pl.Utf8(),
    "x_base_currency": pl.Utf8(),
    **{f"{a}_{side}": MONEY for a in AMOUNTS for side in ("before", "after", "delta")},
    "rule_version_before": pl.Utf8(),
    "rule_version_after": pl.Utf8(),
}


def preview_day(
    day: dt.date,
    normalized: pl.DataFrame,
    usage: pl.DataFrame,
    booked: pl.DataFrame,
    candidate: RuleHistory,
    drivers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The day's before / after / delta per business unit (PREVIEW_COLUMNS), sorted by unit.

    `drivers` are the day's allocation_drivers_raw rows (candidate rules split by a file).
    """
    rules = candidate.applicable(day).rules
    after = allocate_costs(normalized, rules, usage, driver_rows=drivers)
    both = unit_totals(booked, "before").join(
        unit_totals(after, "after"), on=KEYS, how="full", coalesce=True
    )
    zero = pl.lit(0).cast(MONEY)
    both = both.with_columns(
        *[pl.col(f"{a}_{s}").fill_null(zero) for a in AMOUNTS for s in ("before", "after")],
        pl.col("rule_version_before").fill_null(""),
        pl.col("rule_version_after").fill_null(""),
    ).with_columns(
        *[(pl.col(f"{a}_after") - pl.col(f"{a}_before")).alias(f"{a}_delta") for a in AMOUNTS]
    )
    return both.select(list(PREVIEW_COLUMNS)).cast(dict(PREVIEW_COLUMNS)).sort(KEYS)  # type: ignore[arg-type]


def render_preview(frame: pl.DataFrame) -> str:
    """The preview as text lines: one per day and unit, then each day's totals."""
    lines = [f"{'day':<10}  {'business unit':<16} {'before':>14} {'after':>14} {'delta':>14}"]
    for row in frame.iter_rows(named=True):
        lines.append(
            f"{row['x_charge_date']!s:<10}  {row['x_business_unit']:<16} "
            f"{row['billed_cost_before']:>14} {row['billed_cost_after']:>14} "
            f"{row['billed_cost_delta']:>+14} {row['x_base_currency']}"
        )
    totals = frame.group_by("x_charge_date", "x_base_currency").agg(
        pl.col("billed_cost_before", "billed_cost_after", "billed_cost_delta").sum()
    )
    for row in totals.sort("x_charge_date").iter_rows(named=True):
        lines.append(
            f"{row['x_charge_date']!s:<10}  {'(day total)':<16} {row['billed_cost_before']:>14} "
            f"{row['billed_cost_after']:>14} {row['billed_cost_delta']:>+14} "
            f"{row['x_base_currency']}"
        )
    return "\n".join(lines)
