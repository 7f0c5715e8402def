"""Re-allocation through Dagster vs the pure compute of the same work.

`python -m bench.reallocate LAKE --days N`: the normalized rows of the bench day in LAKE (a
bench.product run) are written to
normalized_costs for the N days that end yesterday (FINOPS_PARTITIONS_START is set to the first
of them, so the partitions exist) and allocation_rules + applicable_rules are materialized for
them (untimed: allocation reads each day's rule version from applicable_rules); then (1) the pure
compute: allocate_costs of each day's rows (their read not timed); (2) by hand: the asset's own
per-day function (allocate.day.allocate_day with the day's rules_in_force: narrow read, allocate,
checks, write overlapped with the next day) in a plain loop, which makes the first allocation;
(3) the real allocated_costs asset re-allocating the N days in one ranged single run
(finops_assets.demo.materialize_window, selection allocated_costs: the one run a single-run
backfill launches; the daemon itself is not in the loop), replacing them; (4) by hand again,
replacing them too. dagster / compute is the ratio to the allocation alone; dagster / by_hand
(the replacing pass) is the framework's own overhead on the same work.
"""

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.reference import BASE_CURRENCY, DATA_DIR, DAY, load_reference
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


def write_normalized(lake: DeltaLake, normalized: pl.DataFrame, days: list[dt.date]) -> None:
    """The same normalized rows as each day's normalized_costs partition."""
    for day in days:
        moved = normalized.with_columns(pl.lit(day, pl.Date()).alias("x_charge_date"))
        lake.write_day(tables.NORMALIZED_COSTS, moved, day)


def _instance(home: Path):  # noqa: ANN202 (dagster imported late)
    os.environ.update(
        FINOPS_HOME=str(home), FINOPS_ECB_BASE_URL="off", FINOPS_BASE_CURRENCY=BASE_CURRENCY
    )
    from finops_assets.demo import prepare_instance
    from finops_assets.settings import Settings

    return prepare_instance(Settings.from_env())


def materialize_rules(home: Path, days: list[dt.date]) -> None:
    """allocation_rules and each day's applicable_rules (what allocated_costs reads), untimed."""
    from finops_assets.demo import materialize_window

    selection = "allocation_rules,applicable_rules"
    if not materialize_window(_instance(home), days[0], days[-1], selection).success:
        raise RuntimeError("the allocation_rules/applicable_rules run failed")


def run_dagster(home: Path, days: list[dt.date]) -> tuple[float, float]:
    """(seconds, CPU seconds) of one ranged run of allocated_costs over `days` under `home`."""
    from finops_assets.demo import materialize_window

    instance = _instance(home)
    start, cpu = time.perf_counter(), time.process_time()
    result = materialize_window(instance, days[0], days[-1], selection="allocated_costs")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if not result.success:
        raise RuntimeError("the allocated_costs run failed")
    return seconds, cpu


def run_compute(lake: DeltaLake, days: list[dt.date]) -> dict[str, float]:
    """Seconds and CPU seconds of allocate_costs alone over `days` (reads not counted)."""
    from finops_assets.domain.allocate import INPUT_COLUMNS, allocate_costs

    rules = load_reference().rules
    seconds, cpu = 0.0, 0.0
    for day in days:
        normalized = lake.read_day_columns(tables.NORMALIZED_COSTS, day, INPUT_COLUMNS)
        usage = lake.read_day(tables.K8S_USAGE_RAW, day)
        began, began_cpu = time.perf_counter(), time.process_time()
        allocate_costs(normalized, rules, usage)
        seconds += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    return {"compute_seconds": seconds, "compute_cpu_seconds": cpu}


def run_by_hand(lake: DeltaLake, days: list[dt.date]) -> dict[str, float]:
    """Seconds and CPU seconds of the asset's per-day function in a plain loop over `days`."""
    from finops_assets.allocate.day import AllocatedDayWriter, allocate_day
    from finops_assets.allocate.rules_versions import rules_in_force

    start, cpu = time.perf_counter(), time.process_time()
    writer = AllocatedDayWriter(lake, "by-hand")
    try:
        for day in days:
            if not allocate_day(lake, day, rules_in_force(lake, day), writer).passed:
                raise RuntimeError(f"allocation of {day} failed its checks")
    finally:
        writer.finish()
    return {
        "by_hand_seconds": time.perf_counter() - start,
        "by_hand_cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.reallocate")
    parser.add_argument("lake", type=Path, help="the lake of a bench.product run of DAY")
    parser.add_argument("--days", type=int, default=10)
    args = parser.parse_args(argv)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    days = [yesterday - dt.timedelta(days=args.days - 1 - i) for i in range(args.days)]
    os.environ["FINOPS_PARTITIONS_START"] = days[0].isoformat()  # before the definitions load
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix=".reallocate-") as scratch:
        home = Path(scratch)
        lake = DeltaLake(str(home / "lake"))
        normalized = DeltaLake(str(args.lake)).read_day(tables.NORMALIZED_COSTS, DAY)
        write_normalized(lake, normalized, days)
        rows = normalized.height
        del normalized
        materialize_rules(home, days)
        compute = run_compute(lake, days)
        first = run_by_hand(lake, days)
        dagster, dagster_cpu = run_dagster(home, days)
        hand = run_by_hand(lake, days)
    result = {
        "days": len(days),
        "rows_per_day": rows,
        "dagster_seconds": dagster,
        "dagster_cpu_seconds": dagster_cpu,
        **compute,
        **hand,
        "by_hand_first_write_seconds": first["by_hand_seconds"],
        "ratio": dagster / compute["compute_seconds"],
        "overhead_ratio": dagster / hand["by_hand_seconds"],
        "cpu_ratio": dagster_cpu / compute["compute_cpu_seconds"],
        "cpu_overhead_ratio": dagster_cpu / hand["by_hand_cpu_seconds"],
        "seconds": dagster,
        "rows": rows * len(days),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
