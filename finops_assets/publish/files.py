"""FOCUS datasets as Parquet files by billing period: <root>/billing_period=YYYY-MM/<day>.parquet.

One file per charge day and billing period, so re-running a day replaces exactly its files:
the day's old files (in any billing period) are removed and the new ones written through a
temporary name and an atomic rename. A reader globs `<root>/*/*.parquet` (hive-style folders).
"""

import datetime as dt
import os
from pathlib import Path

import polars as pl


def day_file_name(day: dt.date) -> str:
    return f"charge_date={day.isoformat()}.parquet"


def write_day_by_billing_period(rows: pl.DataFrame, root: Path, day: dt.date) -> list[Path]:
    """Replace `day`'s files under `root` with `rows`, one file per BillingPeriodStart month."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob(f"billing_period=*/{day_file_name(day)}"):
        old.unlink()
    written = []
    periods = rows.with_columns(
        pl.col("BillingPeriodStart").dt.strftime("%Y-%m").fill_null("unknown").alias("_period")
    )
    for (period,), part in sorted(periods.partition_by("_period", as_dict=True).items()):
        folder = root / f"billing_period={period}"
        folder.mkdir(exist_ok=True)
        target = folder / day_file_name(day)
        temporary = folder / f".{target.name}.tmp"
        part.drop("_period").write_parquet(temporary)
        os.replace(temporary, target)
        written.append(target)
    return written
