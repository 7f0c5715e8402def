"""The FinOps report's cost figures for one billing month, from allocated_costs rows.

Every figure is a sum of allocated base-currency amounts (whole minor units, since normalization
rounds each row to the base currency's minor unit and allocation splits by whole units), so each
one reconciles with allocated_costs to the cent. Amounts stay Decimal (MONEY); only
report_format turns them into text.
"""

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from finops_assets.domain.money import MONEY, quantize_half_up

# The allocated_costs columns the report reads.
REPORT_COLUMNS = (
    "x_charge_date",
    "x_provider",
    "x_business_unit",
    "ServiceName",
    "ServiceCategory",
    "ChargeCategory",
    "SubAccountId",
    "ResourceId",
    "x_base_currency",
    "x_billed_cost_base",
    "x_effective_cost_base",
    "x_allocation_method",
)
# Plain names for the report's dimensions (no x_ columns on the page).
DIMENSIONS = {
    "business unit": "x_business_unit",
    "provider": "x_provider",
    "service": "ServiceName",
}
UNALLOCATED_METHOD = "unallocated"
NO_RESOURCE = "(no resource id)"


def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s billing month."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s billing month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_month(day: dt.date) -> dt.date:
    """The first day of the month before `day`'s."""
    return month_start(month_start(day) - dt.timedelta(days=1))


def _total(frame: pl.DataFrame, column: str) -> Decimal:
    value = frame[column].sum() if frame.height else None
    return value if isinstance(value, Decimal) else Decimal(0)


def daily_cost(allocated: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Effective (amortized) cost per charge day and value of one dimension: day, <name>, cost."""
    column = DIMENSIONS[dimension]
    return (
        allocated.group_by("x_charge_date", column)
        .agg(pl.col("x_effective_cost_base").sum().cast(MONEY).alias("cost"))
        .select(
            pl.col("x_charge_date").alias("day"),
            pl.col(column).fill_null("(none)").alias(dimension),
            "cost",
        )
        .sort("day", dimension)
    )


def monthly_cost(allocated: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Billed and amortized cost per value of one dimension over the month, largest first."""
    column = DIMENSIONS[dimension]
    return (
        allocated.group_by(column)
        .agg(
            pl.col("x_billed_cost_base").sum().cast(MONEY).alias("billed"),
            pl.col("x_effective_cost_base").sum().cast(MONEY).alias("amortized"),
        )
        .select(pl.col(column).fill_null("(none)").alias(dimension), "billed", "amortized")
        .sort(["amortized", dimension], descending=[True, False])
    )


@dataclass(frozen=True)
class MonthToDate:
    """Month-to-date spend against the same days of last month, and the month's run rate."""

    as_of: dt.date
    days_elapsed: int
    days_in_month: int
    month_to_date: Decimal
    last_month_same_days: Decimal
    last_month_total: Decimal
    run_rate: Decimal  # month-to-date / days elapsed * days in month, half-up to minor units
    change: Decimal | None  # month-to-date / last month's same days - 1 (None without history)


def month_to_date(
    this_month: pl.DataFrame, last_month: pl.DataFrame, as_of: dt.date, minor_units: int
) -> MonthToDate:
    """Month-to-date amortized cost through `as_of`, last month's same days, and the run rate."""
    current = this_month.filter(pl.col("x_charge_date") <= as_of)
    spent = _total(current, "x_effective_cost_base")
    last_end = month_end(previous_month(as_of))
    same_day = last_end.replace(day=min(as_of.day, last_end.day))
    earlier = last_month.filter(pl.col("x_charge_date") <= same_day)
    same_days = _total(earlier, "x_effective_cost_base")
    days_in_month = month_end(as_of).day
    run_rate = quantize_half_up(spent * days_in_month / as_of.day, minor_units)
    change = None
    if same_days:
        change = quantize_half_up(spent / same_days - 1, 4)
    return MonthToDate(
        as_of=as_of,
        days_elapsed=as_of.day,
        days_in_month=days_in_month,
        month_to_date=spent,
        last_month_same_days=same_days,
        last_month_total=_total(last_month, "x_effective_cost_base"),
        run_rate=run_rate,
        change=change,
    )


def billed_vs_amortized(allocated: pl.DataFrame) -> pl.DataFrame:
    """Per day: what was billed (cash) against amortized cost (commitments spread over usage)."""
    return (
        allocated.group_by("x_charge_date")
        .agg(
            pl.col("x_billed_cost_base").sum().cast(MONEY).alias("billed"),
            pl.col("x_effective_cost_base").sum().cast(MONEY).alias("amortized"),
        )
        .select(
            pl.col("x_charge_date").alias("day"),
            "billed",
            "amortized",
            (pl.col("billed") - pl.col("amortized")).cast(MONEY).alias("difference"),
        )
        .sort("day")
    )


def unallocated_resources(allocated: pl.DataFrame, top: int = 10) -> pl.DataFrame:
    """The resources behind the unallocated cost, largest first (the untagged ones to fix)."""
    unallocated = allocated.filter(pl.col("x_allocation_method") == UNALLOCATED_METHOD)
    return (
        unallocated.group_by("x_provider", "SubAccountId", "ServiceName", "ResourceId")
        .agg(pl.col("x_effective_cost_base").sum().cast(MONEY).alias("cost"))
        .select(
            pl.col("x_provider").alias("provider"),
            pl.col("SubAccountId").fill_null("(none)").alias("account"),
            pl.col("ServiceName").fill_null("(none)").alias("service"),
            pl.col("ResourceId").fill_null(NO_RESOURCE).alias("resource"),
            "cost",
        )
        .sort(
            ["cost", "provider", "account", "service", "resource"], descending=[True] + [False] * 4
        )
        .head(top)
    )


def unallocated_summary(allocated: pl.DataFrame) -> tuple[Decimal, Decimal, Decimal | None]:
    """(unallocated amortized cost, total amortized cost, unallocated share at 4 places)."""
    total = _total(allocated, "x_effective_cost_base")
    unallocated = _total(
        allocated.filter(pl.col("x_allocation_method") == UNALLOCATED_METHOD),
        "x_effective_cost_base",
    )
    share = quantize_half_up(unallocated / total, 4) if total else None
    return unallocated, total, share


def showback(allocated: pl.DataFrame, minor_units: int) -> pl.DataFrame:
    """Finance's showback: per month, business unit, provider and category, billed and amortized.

    Amounts are Decimal at the base currency's minor units (exact: allocated base amounts are whole
    minor units; a row that is not fails the cast instead of being rounded away).
    """
    money = pl.Decimal(38, minor_units)
    keys = ["x_business_unit", "x_provider", "ServiceCategory", "ChargeCategory", "x_base_currency"]
    frame = allocated.with_columns(pl.col("x_charge_date").dt.strftime("%Y-%m").alias("month"))
    summed = frame.group_by(["month", *keys]).agg(
        pl.col("x_billed_cost_base").sum().alias("billed"),
        pl.col("x_effective_cost_base").sum().alias("amortized"),
        pl.len().cast(pl.Int64).alias("allocated_rows"),
    )
    for column in ("billed", "amortized"):
        exact = summed[column].cast(money).cast(MONEY) == summed[column]
        if not exact.all():
            raise ValueError(f"showback {column}: an amount is not in whole minor units")
    return summed.select(
        "month",
        pl.col("x_business_unit").alias("business_unit"),
        pl.col("x_provider").alias("provider"),
        pl.col("ServiceCategory").fill_null("Other").alias("service_category"),
        pl.col("ChargeCategory").alias("charge_category"),
        pl.col("x_base_currency").alias("currency"),
        pl.col("billed").cast(money).alias("billed_cost"),
        pl.col("amortized").cast(money).alias("amortized_cost"),
        "allocated_rows",
    ).sort("month", "business_unit", "provider", "service_category", "charge_category")
