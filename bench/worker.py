"""One measured implementation in its own process: `python -m bench.worker IMPL INPUT`.

Prints one JSON line: seconds and CPU seconds of the work (imports excluded), rows read and the
totals. The
parent reads the process's peak memory from os.wait4.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import polars as pl

from bench import duck, naive
from bench.reference import load_reference
from finops_assets.domain.sources import aws_cur

IMPLEMENTATIONS = ("duckdb", "naive", "floor")


def needed_columns(path: Path) -> list[str]:
    """The file's columns the pipeline reads: those aws_cur_raw types (aws_cur.RAW_COLUMNS)."""
    present = pl.scan_parquet(path).collect_schema()
    return [c for c in present if aws_cur.cur2_column_name(c) in aws_cur.RAW_COLUMNS]


def floor_total(path: Path) -> dict[str, list[str]]:
    """(d) The floor: a Polars scan of the columns the pipeline needs; the cost column summed."""
    frame = pl.scan_parquet(path).select(needed_columns(path)).collect()
    return {"all": [format(frame["line_item_unblended_cost"].sum(), ".10f")]}


def _run(impl: str, path: Path, base_currency: str) -> dict[str, list[str]]:
    if impl == "floor":
        return floor_total(path)
    reference = load_reference(base_currency)
    if impl == "duckdb":
        return duck.normalize_and_allocate(path, reference)
    return naive.normalize_and_allocate(path, reference)


def main(argv: list[str] | None = None) -> int:
    """Run one implementation on one input and print its JSON result."""
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("impl", choices=IMPLEMENTATIONS)
    parser.add_argument("input", type=Path)
    parser.add_argument("--base-currency", default="EUR")
    parser.add_argument("--profile", type=Path, help="save a pyinstrument profile here")
    args = parser.parse_args(argv)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    start, cpu = time.perf_counter(), time.process_time()
    totals = _run(args.impl, args.input, args.base_currency)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        args.profile.write_text(profiler.output_text(unicode=False, color=False), "utf-8")
    rows = pl.scan_parquet(args.input).select(pl.len()).collect().item()
    result = {"impl": args.impl, "seconds": seconds, "cpu_seconds": cpu, "rows": rows}
    print(json.dumps({**result, "totals": totals}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
