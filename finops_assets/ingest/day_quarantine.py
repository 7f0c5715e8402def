"""A day's quarantine rows from what one payload's rows (or a batch of them) parsed to."""

import datetime as dt
from types import ModuleType

import polars as pl

from finops_assets.domain.sources.common import QUARANTINE_COLUMNS


def spanning_quarantine(
    quarantine: pl.DataFrame, day: dt.date, period: tuple[dt.date, dt.date]
) -> pl.DataFrame:
    """A period file's bad rows of `day`; on the period's first day also those dated outside
    the period or not at all, so each bad row is filed exactly once."""
    dated_inside = pl.col("x_charge_date").is_between(*period).fill_null(False)
    own = pl.col("x_charge_date") == day
    keep = (own & dated_inside) | (~dated_inside if day == period[0] else pl.lit(False))
    return with_day(quarantine.filter(keep), day)


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_COLUMNS)


def with_day(quarantine: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Quarantine rows are filed under the partition being ingested."""
    return quarantine.with_columns(pl.lit(day).alias("x_charge_date")).select(
        list(QUARANTINE_COLUMNS)
    )


def other_days(source: ModuleType, rows: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Rows a payload of `day` carried for another day: quarantined with amount and currency."""
    stray = rows.filter(pl.col("x_charge_date") != day)
    if stray.is_empty():
        return empty_quarantine()
    amounts = source.row_amounts(stray)
    return pl.DataFrame(
        {
            "x_charge_date": [day] * stray.height,
            "x_source": [source.SOURCE] * stray.height,
            "x_ingestion_key": stray["x_ingestion_key"],
            "x_source_file": stray["x_source_file"],
            "x_source_line": stray["x_source_line"],
            "x_column": ["x_charge_date"] * stray.height,
            "x_reason": [
                f"charge day {d} is outside the file's day {day}" for d in stray["x_charge_date"]
            ],
            "x_raw_record": stray.select(
                pl.struct(pl.all()).struct.json_encode().alias("r")
            ).to_series(),
            "x_amount": amounts["amount"].cast(pl.Utf8),
            "x_currency": amounts["currency"],
        },
        schema=QUARANTINE_COLUMNS,
    )
