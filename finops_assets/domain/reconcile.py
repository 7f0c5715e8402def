"""Reconciliation of export files against the lake, per charge day and billing currency.

file total = what the provider's files carry (rows that parse, plus the amounts of rows that do
not); normalized = sum(BilledCost) of normalized_costs; quarantined = the amounts quarantined at
ingestion and at normalization. They must agree exactly: file total = normalized + quarantined.

Rows too, per charge day: file rows (the rows the file's records must become, row_conservation
.rows_in, plus its quarantined records) = normalized rows + quarantined rows. A row that costs 0
on every column is invisible to the amounts; the counts see it.
"""

import datetime as dt
from collections.abc import Callable

import polars as pl

from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.common import ParseResult

TOTALS_SCHEMA = {"day": pl.Date(), "currency": pl.Utf8(), "amount": MONEY}
ROWS_SCHEMA = {"day": pl.Date(), "rows": pl.Int64()}
NO_CURRENCY = "?"


def file_totals(
    parsed: ParseResult,
    billed_totals: Callable[[pl.DataFrame], pl.DataFrame],
    period: tuple[dt.date, dt.date],
) -> pl.DataFrame:
    """Per day and currency, what one parsed file carries: billed rows + quarantined amounts.

    Bad rows dated outside `period` or not at all count on its first day, as ingestion files
    them (see ingest.pipeline).
    """
    frames = [
        billed_totals(group).with_columns(pl.lit(day[0], pl.Date()).alias("day"))
        for day, group in parsed.rows.group_by("x_charge_date", maintain_order=True)
    ]
    billed = [f.select("day", "currency", pl.col("amount").cast(MONEY)) for f in frames]
    inside = pl.col("x_charge_date").is_between(*period).fill_null(False)
    bad = parsed.quarantine.with_columns(
        pl.when(inside).then(pl.col("x_charge_date")).otherwise(pl.lit(period[0])).alias("day")
    )
    return _sum([*billed, quarantined_amounts(bad)])


def file_rows(
    parsed: ParseResult,
    rows_in: Callable[[pl.DataFrame], int],
    period: tuple[dt.date, dt.date],
) -> pl.DataFrame:
    """Per day, the rows one parsed file must end as: rows_in of its rows of that day, plus its
    quarantined records (dated as in file_totals)."""
    frames = [
        pl.DataFrame({"day": [day[0]], "rows": [rows_in(group)]}, schema=ROWS_SCHEMA)
        for day, group in parsed.rows.group_by("x_charge_date", maintain_order=True)
    ]
    inside = pl.col("x_charge_date").is_between(*period).fill_null(False)
    bad = parsed.quarantine.select(
        pl.when(inside).then(pl.col("x_charge_date")).otherwise(pl.lit(period[0])).alias("day")
    )
    return row_counts([*frames, row_counts([bad])])


def row_counts(frames: list[pl.DataFrame], day_column: str = "day") -> pl.DataFrame:
    """Per day, the rows of `frames` (a frame with a `rows` column adds its counts)."""
    counted = [
        f.select(
            pl.col(day_column).alias("day"),
            (pl.col("rows") if "rows" in f.columns else pl.lit(1)).cast(pl.Int64).alias("rows"),
        )
        for f in frames
        if f.height
    ]
    if not counted:
        return pl.DataFrame(schema=ROWS_SCHEMA)
    return pl.concat(counted).group_by("day").agg(pl.col("rows").sum()).sort("day")


def reconcile_rows(
    files: pl.DataFrame, normalized: pl.DataFrame, quarantined: pl.DataFrame
) -> pl.DataFrame:
    """One row per day: file_rows, normalized_rows, quarantined_rows, difference, reconciled."""
    table = pl.concat([f.select("day") for f in (files, normalized, quarantined)]).unique()
    for name, frame in (
        ("file_rows", files),
        ("normalized_rows", normalized),
        ("quarantined_rows", quarantined),
    ):
        table = table.join(frame.rename({"rows": name}), on="day", how="left")
    counts = ("file_rows", "normalized_rows", "quarantined_rows")
    table = table.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)
    difference = pl.col("file_rows") - pl.col("normalized_rows") - pl.col("quarantined_rows")
    return (
        table.with_columns(difference.alias("difference"))
        .with_columns((pl.col("difference") == 0).alias("reconciled"))
        .sort("day")
    )


def quarantined_amounts(quarantine: pl.DataFrame, day_column: str = "day") -> pl.DataFrame:
    """Per day and currency, the amounts of quarantine rows (rows without a readable amount: 0)."""
    return _sum(
        [
            quarantine.select(
                pl.col(day_column).alias("day"),
                pl.col("x_currency").fill_null(NO_CURRENCY).alias("currency"),
                parse_money_expr("x_amount").fill_null(0).cast(MONEY).alias("amount"),
            )
        ]
    )


def normalized_amounts(normalized: pl.DataFrame) -> pl.DataFrame:
    """Per day and billing currency, sum(BilledCost) of normalized rows."""
    return _sum(
        [
            normalized.select(
                pl.col("x_charge_date").alias("day"),
                pl.col("BillingCurrency").alias("currency"),
                pl.col("BilledCost").cast(MONEY).alias("amount"),
            )
        ]
    )


def reconcile(
    files: pl.DataFrame, normalized: pl.DataFrame, quarantined: pl.DataFrame
) -> pl.DataFrame:
    """One row per day and currency: file_total, normalized, quarantined, difference, reconciled."""
    keys = pl.concat([f.select("day", "currency") for f in (files, normalized, quarantined)])
    table = keys.unique()
    for name, frame in (
        ("file_total", files),
        ("normalized", normalized),
        ("quarantined", quarantined),
    ):
        table = table.join(frame.rename({"amount": name}), on=["day", "currency"], how="left")
    table = table.with_columns(
        pl.col(c).fill_null(0).cast(MONEY) for c in ("file_total", "normalized", "quarantined")
    )
    difference = pl.col("file_total") - pl.col("normalized") - pl.col("quarantined")
    return (
        table.with_columns(difference.cast(MONEY).alias("difference"))
        .with_columns((pl.col("difference") == 0).alias("reconciled"))
        .sort("day", "currency")
    )


def _sum(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f.select(list(TOTALS_SCHEMA)).cast(TOTALS_SCHEMA) for f in frames if f.height]  # type: ignore[arg-type]
    if not frames:
        return pl.DataFrame(schema=TOTALS_SCHEMA)
    return (
        pl.concat(frames)
        .group_by("day", "currency")
        .agg(pl.col("amount").sum().cast(MONEY))
        .sort("day", "currency")
    )
