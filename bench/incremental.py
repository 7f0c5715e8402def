"""Incremental cost: write_day + read_day of day N on a table with 365 days of history vs empty.

`python -m bench.incremental LAKE`: the allocated rows of the bench day in LAKE (a bench.product
run) are the day written;
the history is `--history-days` earlier days of `--history-rows` rows each, one commit per day
(as a year of daily materializations leaves it). Each case is repeated and the median kept.
"""

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.reference import DATA_DIR, DAY
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

TABLE = tables.ALLOCATED_COSTS


def _on_day(frame: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return frame.with_columns(pl.lit(day, pl.Date()).alias("x_charge_date"))


def write_history(lake: DeltaLake, frame: pl.DataFrame, first: dt.date, days: int) -> None:
    """`days` daily commits of `frame` moved to each day, from `first` on."""
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        lake.write_day(TABLE, _on_day(frame, day), day)


def time_day(lake: DeltaLake, frame: pl.DataFrame, day: dt.date) -> tuple[float, float]:
    """Seconds of write_day and of read_day of `frame` as `day`."""
    start = time.perf_counter()
    lake.write_day(TABLE, frame, day)
    written = time.perf_counter()
    read = lake.read_day(TABLE, day)
    done = time.perf_counter()
    if read.height != frame.height:
        raise RuntimeError(f"read {read.height} rows of day {day}, wrote {frame.height}")
    return written - start, done - written


def measure(day_frame: pl.DataFrame, history_days: int, history_rows: int, repeats: int) -> dict:
    """Median write and read seconds of the day on an empty table and on one with history."""
    history_frame = day_frame.head(history_rows)
    target = DAY + dt.timedelta(days=history_days)
    frame = _on_day(day_frame, target)
    empty, full = [], []
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix=".incremental-") as scratch:
        with_history = DeltaLake(str(Path(scratch) / "history"))
        write_history(with_history, history_frame, DAY, history_days)
        for attempt in range(repeats):
            fresh = Path(scratch) / f"empty-{attempt}"
            empty.append(time_day(DeltaLake(str(fresh)), frame, target))
            shutil.rmtree(fresh)
            full.append(time_day(with_history, frame, target))
    result: dict = {"history_days": history_days, "history_rows": history_rows}
    for name, runs in (("empty", empty), ("history", full)):
        result[f"{name}_write_seconds"] = statistics.median(r[0] for r in runs)
        result[f"{name}_read_seconds"] = statistics.median(r[1] for r in runs)
        result[f"{name}_seconds"] = statistics.median(r[0] + r[1] for r in runs)
    result["ratio"] = result["history_seconds"] / result["empty_seconds"]
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.incremental")
    parser.add_argument("lake", type=Path, help="the lake of a bench.product run of DAY")
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--history-rows", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    day_frame = DeltaLake(str(args.lake)).read_day(tables.ALLOCATED_COSTS, DAY)
    start = time.perf_counter()
    result = measure(day_frame, args.history_days, args.history_rows, args.repeats)
    result.update(seconds=time.perf_counter() - start, rows=day_frame.height)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
