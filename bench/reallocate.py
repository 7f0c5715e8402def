"""Re-allocation through Dagster vs the pure compute of the same work.

`python -m bench.reallocate INPUT --days N`: the input day's normalized rows are written to
normalized_costs for N days; then (1) the real allocated_costs asset re-allocates the N days in
one ranged single run (finops_assets.demo.materialize_window, selection allocated_costs), and
(2) the same days run by hand: read, allocate_costs (the pure compute, timed on its own), the
asset's two checks, write_day. dagster / compute is the target ratio; dagster / by_hand is the
framework's own overhead.
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

from bench import ours
from bench.reference import DATA_DIR, load_reference
from finops_assets.partitions import PARTITIONS_START
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

FIRST_DAY = dt.date.fromisoformat(PARTITIONS_START)


def write_normalized(lake: DeltaLake, normalized: pl.DataFrame, days: list[dt.date]) -> None:
    """The same normalized rows as each day's normalized_costs partition."""
    for day in days:
        moved = normalized.with_columns(pl.lit(day, pl.Date()).alias("x_charge_date"))
        lake.write_day(tables.NORMALIZED_COSTS, moved, day)


def run_dagster(home: Path, days: list[dt.date]) -> tuple[float, float]:
    """(seconds, CPU seconds) of one ranged run of allocated_costs over `days` under `home`."""
    os.environ["FINOPS_HOME"] = str(home)
    from finops_assets.demo import materialize_window, prepare_instance
    from finops_assets.settings import Settings

    instance = prepare_instance(Settings.from_env())
    start, cpu = time.perf_counter(), time.process_time()
    result = materialize_window(instance, days[0], days[-1], selection="allocated_costs")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if not result.success:
        raise RuntimeError("the allocated_costs run failed")
    return seconds, cpu


def run_by_hand(source: DeltaLake, target: DeltaLake, days: list[dt.date]) -> dict[str, float]:
    """Seconds and CPU seconds of allocate_costs alone and of the whole loop over `days`."""
    from finops_assets.allocate.checks import allocated_contract_result, conservation_result
    from finops_assets.domain.allocate import allocate_costs
    from finops_assets.domain.allocate_conservation import allocation_coverage

    rules = load_reference().rules
    compute, compute_cpu = 0.0, 0.0
    start, cpu = time.perf_counter(), time.process_time()
    for day in days:
        normalized = source.read_day(tables.NORMALIZED_COSTS, day)
        usage = source.read_day(tables.K8S_USAGE_RAW, day)
        began, began_cpu = time.perf_counter(), time.process_time()
        allocated = allocate_costs(normalized, rules, usage)
        compute += time.perf_counter() - began
        compute_cpu += time.process_time() - began_cpu
        passed = allocated_contract_result(allocated).passed
        if not (passed and conservation_result(normalized, allocated).passed):
            raise RuntimeError(f"allocation of {day} failed its checks")
        target.write_day(tables.ALLOCATED_COSTS, allocated, day)
        allocation_coverage(allocated)
    return {
        "compute_seconds": compute,
        "compute_cpu_seconds": compute_cpu,
        "by_hand_seconds": time.perf_counter() - start,
        "by_hand_cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.reallocate")
    parser.add_argument("input", type=Path)
    parser.add_argument("--days", type=int, default=10)
    args = parser.parse_args(argv)
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(args.days)]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix=".reallocate-") as scratch:
        home = Path(scratch)
        lake = DeltaLake(str(home / "lake"))
        normalized = ours.normalize_rows(args.input, load_reference())
        write_normalized(lake, normalized, days)
        rows = normalized.height
        del normalized
        hand = run_by_hand(lake, DeltaLake(str(home / "by_hand")), days)
        dagster, dagster_cpu = run_dagster(home, days)
    result = {
        "days": len(days),
        "rows_per_day": rows,
        "dagster_seconds": dagster,
        "dagster_cpu_seconds": dagster_cpu,
        **hand,
        "ratio": dagster / hand["compute_seconds"],
        "overhead_ratio": dagster / hand["by_hand_seconds"],
        "cpu_ratio": dagster_cpu / hand["compute_cpu_seconds"],
        "cpu_overhead_ratio": dagster_cpu / hand["by_hand_cpu_seconds"],
        "seconds": dagster,
        "rows": rows * len(days),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
