"""`make bench` / `python -m bench.run`: the product timed, side by side on the same CUR day.

For each size (rows a day) on one CUR 2.0 Parquet day: (a) the product, one in-process ranged
Dagster run of the whole graph for that landed day (bench.product: what `finops load` and the
landing sensor run); (b) DuckDB computing the same normalized and allocated totals in SQL;
(d) the floor, a Polars scan of the columns the pipeline needs; (c) naive row-by-row `decimal`
on a strided sample, extrapolated linearly, with (a) and (b) on the same sample so that all
three totals are compared to the last unit, (c) being the reference. Each runs in its own
process (peak memory from os.wait4). Then the incremental cost and the re-allocation through
Dagster. Exits non-zero when totals differ.
Also through the product: a 31-day billing-period file's load vs one parse (bench.period_parse),
restating 1 day of 31 vs a fresh day (bench.restate).
"""

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

from bench.measure import Measured, run_process
from bench.report import print_summary, write_chart

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parent / "data"
BASE_CURRENCY = "EUR"  # as bench.reference (not imported: this parent process stays small)


def _worker(impl: str, path: Path, args: argparse.Namespace) -> Measured:
    command = ["bench.worker", impl, str(path), "--base-currency", args.base_currency]
    return _report(impl, path, run_process(command))


def _product(path: Path, args: argparse.Namespace, profile: Path | None = None) -> Measured:
    """(a) one landed day through the real Dagster graph, under bench/data/product-<file>/."""
    home = DATA / f"product-{path.name.split('.')[0]}"
    command = ["bench.product", str(path), str(home), "--base-currency", args.base_currency]
    if profile is not None:
        command += ["--profile", str(profile)]
    return _report("product", path, run_process(command))


def _report(impl: str, path: Path, measured: Measured) -> Measured:
    print(
        f"  {impl:7s} {path.name}: {measured.seconds:8.2f} s ({measured.cpu_seconds:.2f} s CPU),"
        f" {measured.peak_mb:7.0f} MB",
        flush=True,
    )
    return measured


def side_by_side(rows_per_day: int, args: argparse.Namespace) -> dict:
    """(a) the product, (b) DuckDB, (c) naive on a sample, (d) the floor; totals checked."""
    paths = run_process(["bench.prepare", str(rows_per_day), str(args.naive_rows)]).payload
    path, sample = Path(paths["input"]), Path(paths["sample"])
    full = {"floor": _worker("floor", path, args), "product": _product(path, args)}
    full["duckdb"] = _worker("duckdb", path, args)
    if args.profile:  # a run of its own: the profiler keeps frames alive, inflating memory
        _product(path, args, RESULTS / f"profile-product-{rows_per_day}.txt")
    small = {impl: _worker(impl, sample, args) for impl in ("naive", "duckdb")}
    small["product"] = _product(sample, args)
    rows, sample_rows = full["product"].rows, small["naive"].rows
    naive_seconds = small["naive"].seconds * rows / sample_rows
    a, b, d = (full[i].seconds for i in ("product", "duckdb", "floor"))
    cpu = {i: full[i].cpu_seconds for i in ("product", "duckdb", "floor")}
    cpu["naive_extrapolated"] = small["naive"].cpu_seconds * rows / sample_rows
    reference = small["naive"].payload["totals"]
    agree = {
        "sample_product_vs_naive": small["product"].payload["totals"] == reference,
        "sample_duckdb_vs_naive": small["duckdb"].payload["totals"] == reference,
        "full_product_vs_duckdb": full["product"].payload["totals"]
        == full["duckdb"].payload["totals"],
    }
    return {
        "rows": rows,
        "sample_rows": sample_rows,
        "product_home": str(DATA / f"product-{path.name.split('.')[0]}"),
        "seconds": {"product": a, "duckdb": b, "naive_extrapolated": naive_seconds, "floor": d},
        "product_steps": full["product"].payload["steps"],
        "product_step_peak_mb": full["product"].payload.get("step_peak_mb", {}),
        "product_startup_seconds": full["product"].payload["startup_seconds"],
        "cpu_seconds": cpu,
        "cpu_ratios": {
            "a/b": cpu["product"] / cpu["duckdb"],
            "c/a": cpu["naive_extrapolated"] / cpu["product"],
            "a/d": cpu["product"] / cpu["floor"],
        },
        "naive_sample_seconds": small["naive"].seconds,
        "peak_mb": {
            "product": full["product"].peak_mb,
            "duckdb": full["duckdb"].peak_mb,
            "naive_sample": small["naive"].peak_mb,
            "floor": full["floor"].peak_mb,
        },
        "ratios": {"a/b": a / b, "c/a": naive_seconds / a, "a/d": a / d},
        "totals_agree": agree,
        "totals": {
            "full_product": full["product"].payload["totals"],
            "full_duckdb": full["duckdb"].payload["totals"],
            "sample_naive": reference,
            "sample_product": small["product"].payload["totals"],
            "sample_duckdb": small["duckdb"].payload["totals"],
        },
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    # 10M rows a day is not a default: the product does not hold such a day in this machine's
    # 24 GB yet (README, Performance); `--rows 10000000` runs it.
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--quick", action="store_true", help="100k rows a day, small extras")
    parser.add_argument("--naive-rows", type=int, default=100_000)
    parser.add_argument("--base-currency", default=BASE_CURRENCY)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--realloc-days", type=int, default=90)
    parser.add_argument("--realloc-rows", type=int, default=10_000)
    parser.add_argument("--period-rows", type=int, default=20_000, help="rows a day, 31-day file")
    parser.add_argument("--restate-rows", type=int, default=2_000, help="rows a day, restatement")
    parser.add_argument("--skip-period-parse", action="store_true")
    parser.add_argument("--skip-restatement", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--skip-reallocation", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="pyinstrument profile of (a), an extra run"
    )
    parser.add_argument("--output", type=Path, help="JSON path (default results/<date>.json)")
    parser.add_argument(
        "--update", action="store_true", help="keep the output's sections this run does not measure"
    )
    parser.add_argument("--chart", type=Path, help="write the chart (PNG) here")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the summary, write the JSON; non-zero exit if totals differ."""
    args = _parser().parse_args(argv)
    if args.quick:
        args.rows, args.naive_rows = [100_000], min(args.naive_rows, 20_000)
        args.realloc_days, args.realloc_rows = 3, 100_000
        args.period_rows = 2_000
    restate_rows = args.restate_rows or args.period_rows
    result: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": _cpus(),
            "memory_gb": _memory_gb(),
            "python": platform.python_version(),
            # the machine is shared: timings are under this load (1, 5, 15 min) at the start
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "base_currency": args.base_currency,
        "sizes": [],
    }
    for rows in args.rows:
        print(f"{rows:,} rows a day")
        result["sizes"].append(side_by_side(rows, args))
    if not args.skip_period_parse:  # a 31-day CUR file: one parse, not 31
        period = run_process(["bench.period_parse", "--rows-per-day", str(args.period_rows)])
        result["period_parse"] = {**period.payload, "peak_mb": period.peak_mb}
    if not args.skip_restatement:  # restating 1 day of the 31 vs a fresh day, downstream work
        restate = run_process(["bench.restate", "--rows-per-day", str(restate_rows)])
        result["restatement"] = {**restate.payload, "peak_mb": restate.peak_mb}
    if not (args.skip_incremental and args.skip_reallocation):
        lake = product_lake(args.realloc_rows, args)
    if not args.skip_incremental:
        incremental = run_process(
            ["bench.incremental", str(lake), "--history-days", str(args.history_days)]
        )
        result["incremental"] = {**incremental.payload, "peak_mb": incremental.peak_mb}
    if not args.skip_reallocation:
        realloc = run_process(["bench.reallocate", str(lake), "--days", str(args.realloc_days)])
        result["reallocation"] = {**realloc.payload, "peak_mb": realloc.peak_mb}
    output = args.output or RESULTS / f"{dt.date.today().isoformat()}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    if args.update and output.exists():
        previous = json.loads(output.read_text(encoding="utf-8"))
        result = {**previous, **{k: v for k, v in result.items() if k != "sizes" or v}}
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_summary(result)
    if args.chart:
        write_chart(result, args.chart)
    print(f"results: {output}")
    failed = [k for size in result["sizes"] for k, ok in size["totals_agree"].items() if not ok]
    if failed:
        print(f"TOTALS DIFFER: {failed}", file=sys.stderr)
        return 1
    return 0


def product_lake(rows_per_day: int, args: argparse.Namespace) -> Path:
    """The lake of a product run of the `rows_per_day` day (run now unless a size ran it)."""
    path = Path(
        run_process(["bench.prepare", str(rows_per_day), str(args.naive_rows)]).payload["input"]
    )
    home = DATA / f"product-{path.name.split('.')[0]}"
    if rows_per_day not in args.rows or not (home / "lake").is_dir():
        _product(path, args)
    return home / "lake"


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _memory_gb() -> float:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        kib = int(meminfo.readline().split()[1])
    return round(kib / 1024**2, 1)


if __name__ == "__main__":
    sys.exit(main())
