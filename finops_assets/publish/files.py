"""FOCUS datasets as Parquet files by billing period: <root>/billing_period=YYYY-MM/<day>.parquet.

One file per charge day and billing period, so re-running a day replaces exactly its files:
the day's old files (in any billing period) are removed and the new ones written through a
temporary name and an atomic rename. A reader globs `<root>/*/*.parquet` (hive-style folders).
"""

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq


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


class StagedDayFiles:
    """A day's files by billing period, written slice by slice and published all at once.

    `add` appends a slice's rows to a temporary file per billing period (one Parquet row group
    or more per slice), so the day is never whole in memory; `publish` replaces the day's files
    as write_day_by_billing_period does (the same rows in the same order, other row groups);
    `discard` drops what was staged (a day that failed its checks writes nothing). A day with
    no rows writes no file.
    """

    def __init__(self, root: Path, day: dt.date) -> None:
        self._root, self._day = root, day
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._staged: dict[Path, Path] = {}  # target -> temporary

    def add(self, rows: pl.DataFrame) -> None:
        """Append `rows` (a slice of the day, in the day's order) to their periods' files."""
        periods = rows.with_columns(
            pl.col("BillingPeriodStart").dt.strftime("%Y-%m").fill_null("unknown").alias("_period")
        )
        for (period,), part in periods.partition_by("_period", as_dict=True).items():
            table = part.drop("_period").to_arrow()
            writer = self._writers.get(str(period))
            if writer is None:
                folder = self._root / f"billing_period={period}"
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / day_file_name(self._day)
                temporary = folder / f".{target.name}.tmp"
                writer = pq.ParquetWriter(temporary, table.schema, compression="zstd")
                self._writers[str(period)], self._staged[target] = writer, temporary
            writer.write_table(table)

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def publish(self) -> list[Path]:
        """Replace the day's files under the root with the staged ones."""
        self._close()
        self._root.mkdir(parents=True, exist_ok=True)
        for old in self._root.glob(f"billing_period=*/{day_file_name(self._day)}"):
            old.unlink()
        for target, temporary in sorted(self._staged.items()):
            os.replace(temporary, target)
        written = sorted(self._staged)
        self._staged.clear()
        return written

    def discard(self) -> None:
        """Drop the staged files; the day's published files stay as they were."""
        self._close()
        for temporary in self._staged.values():
            temporary.unlink(missing_ok=True)
        self._staged.clear()


def day_files_state(roots: list[Path], day: dt.date) -> str:
    """`day`'s files under each of `roots` now (name, size, modification time): a day file
    removed or rewritten since a memoized day was recorded computes that day again."""
    named = []
    for root in roots:
        for path in sorted(root.glob(f"billing_period=*/{day_file_name(day)}")):
            stat = path.stat()
            named.append(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}")
        named.append("|")
    return ",".join(named)
