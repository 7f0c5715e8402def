"""Exact conservation of allocated money, whole or chunk by chunk, and allocation coverage."""

from collections.abc import Sequence

import polars as pl

from finops_assets.domain.allocate import BASE_MONEY_COLUMNS, BILLING_MONEY_COLUMNS
from finops_assets.domain.allocate_split import SHARE
from finops_assets.domain.money import MONEY

GROUP = ("x_charge_date", "BillingCurrency", "ChargeCategory", "x_base_currency")
_MONEY = (*BILLING_MONEY_COLUMNS, *BASE_MONEY_COLUMNS)


def money_sums(frame: pl.DataFrame) -> pl.DataFrame:
    """Per day, billing currency, charge category and base currency: each money column's sum."""
    return frame.group_by(GROUP).agg([pl.col(c).sum().cast(MONEY) for c in _MONEY])


def add_money_sums(sums: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """money_sums of several chunks added up: the money_sums of all their rows (exact)."""
    return pl.concat(sums).group_by(GROUP).agg([pl.col(c).sum().cast(MONEY) for c in _MONEY])


def sums_violations(normalized: pl.DataFrame, allocated: pl.DataFrame) -> pl.DataFrame:
    """Groups and money columns where the allocated sums differ from the normalized; empty if exact."""
    joined = normalized.join(
        allocated, on=GROUP, how="full", coalesce=True, nulls_equal=True, suffix="_out"
    )
    zero = pl.lit(0).cast(MONEY)
    frames = [
        joined.select(
            *GROUP,
            pl.lit(c).alias("column"),
            pl.col(c).fill_null(zero).alias("normalized"),
            pl.col(f"{c}_out").fill_null(zero).alias("allocated"),
        )
        for c in _MONEY
    ]
    long = pl.concat(frames).with_columns(
        (pl.col("allocated") - pl.col("normalized")).cast(MONEY).alias("difference")
    )
    return long.filter(pl.col("difference") != 0).sort(*GROUP, "column", nulls_last=True)


def conservation_violations(normalized: pl.DataFrame, allocated: pl.DataFrame) -> pl.DataFrame:
    """Per day, currency, charge category and money column where allocated != normalized."""
    return sums_violations(money_sums(normalized), money_sums(allocated))


def allocation_coverage(allocated: pl.DataFrame) -> pl.DataFrame:
    """Share of the base-currency effective cost (and row count) by allocation method."""
    return coverage_shares(coverage_sums(allocated))


def coverage_sums(allocated: pl.DataFrame) -> pl.DataFrame:
    """Base-currency effective cost and rows by allocation method (additive over chunks)."""
    return allocated.group_by("x_base_currency", "x_allocation_method").agg(
        pl.col("x_effective_cost_base").sum().cast(MONEY).alias("x_effective_cost_base"),
        pl.len().cast(pl.Int64).alias("rows"),
    )


def coverage_shares(sums: pl.DataFrame) -> pl.DataFrame:
    """coverage_sums (of one frame or of several chunks) with each method's share.

    A share is the method's part of the currency's signed total (so an all-credit day has
    positive shares); where that total is zero (an empty, all-zero or netted-out day) the
    shares are null, not a division by zero.
    """
    totals = sums.group_by("x_base_currency", "x_allocation_method").agg(
        pl.col("x_effective_cost_base").sum().cast(MONEY), pl.col("rows").sum()
    )
    total = pl.col("x_effective_cost_base").sum().over("x_base_currency").cast(SHARE)
    # Polars may evaluate a when/then division on every row: divide by null, never by zero.
    divisor = pl.when(total != 0).then(total)
    share = pl.col("x_effective_cost_base").cast(SHARE) / divisor
    return totals.with_columns(share.cast(SHARE).alias("share")).sort(
        "x_base_currency", "x_allocation_method"
    )
