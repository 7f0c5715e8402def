"""Restating one day of a 31-day billing-period delivery vs a fresh day, through the product.

`python -m bench.restate --rows-per-day N`: on a fresh FINOPS_HOME and Dagster instance,
(1) the sample CUR 2.0 month file of October 2026 (bench.period_parse's) lands in the landing
folder and one in-process ranged run materializes what a newly landed file runs
(`loading.run.load_selection`, as bench.product and `finops load`) over its 31 days; (2) the
provider's new delivery of the month, in which only 15 October's rows changed, replaces it
and the same run goes over the 31 days again (what the landing sensor launches for a new
delivery of the period); (3) a fresh day, 1 November as a day file of the same size, is
loaded by the same run for that day. Issue 20's target: the downstream work of (2) (every step
but the raw ingestion steps `*_raw`, which re-read the whole new file) <= 2 x that of (3).
Reports every step's seconds of each run and the days each memoized asset computed in (2).
"""

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.period_parse import DAYS, EXPORT, delivery_path, month_file
from bench.product import RssSampler, budgets_in, step_figures
from bench.reference import BASE_CURRENCY

RESTATED = dt.date(2026, 10, 15)
FRESH = dt.date(2026, 11, 1)
MEMOIZED = (
    "normalized_costs",
    "allocated_costs",
    "cost_by_business_unit",
    "focus_export",
    "focus_cost_allocation",
    "allocation_audit",
    "budget_status",
    "cost_anomalies",
    "rightsizing_recommendations",
    "commitment_recommendations",
    "finops_kpis",
    "budget_events",
)


def timed_run(instance: object, first: dt.date, last: dt.date, budgets: Path) -> dict:
    """One ranged run of the load selection: seconds, CPU, steps, ingest/downstream split."""
    from finops_assets.demo import materialize_window
    from finops_assets.loading.run import load_selection

    selection = load_selection(instance)
    start, cpu = time.perf_counter(), time.process_time()
    with RssSampler(interval=0.5) as sampler:
        result = materialize_window(
            instance,
            first,
            last,
            selection,
            resources={"budgets": {"config": {"path": str(budgets)}}},
        )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if not result.success:
        failed = [event.step_key for event in result.get_step_failure_events()]
        raise RuntimeError(f"the run of {first}..{last} failed: {failed}")
    figures = step_figures(instance, result.run_id, sampler)
    steps = {key: f["seconds"] for key, f in figures.items()}
    step_cpu = {key: f["cpu_seconds"] for key, f in figures.items()}
    downstream = [key for key in steps if not key.endswith("_raw")]
    return {
        "run_id": result.run_id,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "steps": steps,
        "step_cpu_seconds": step_cpu,
        "ingest_step_seconds": sum(steps.values()) - sum(steps[k] for k in downstream),
        "downstream_step_seconds": sum(steps[k] for k in downstream),
        "downstream_step_cpu_seconds": sum(step_cpu[k] for k in downstream),
    }


def computed_days(instance: object, run_id: str) -> dict[str, int]:
    """Per memoized asset, the run's materialization events flagged `recomputed: true` (events,
    not days: a ranged run records two per day, day_writer.py)."""
    import dagster as dg

    from finops_assets.day_memo import RECOMPUTED_KEY

    assert isinstance(instance, dg.DagsterInstance)  # noqa: S101 (type narrowing)
    counts = dict.fromkeys(MEMOIZED, 0)
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        name = materialization.asset_key.to_user_string() if materialization else ""
        if name in counts and materialization is not None:
            flag = materialization.metadata.get(RECOMPUTED_KEY)
            counts[name] += int(bool(flag.value)) if flag is not None else 1
    return counts


def fresh_day_file(landing: Path, scratch: Path, rows_per_day: int) -> None:
    """FRESH as its own delivery: the sample's CUR 2.0 CSV of that day, in a day folder."""
    from finops_assets.resources.payloads import period_folder_name
    from finops_assets.sample import aws_cur_writer

    paths = aws_cur_writer.write_day(scratch, FRESH, seed=7, rows_per_day=rows_per_day)
    source = next(p for p in paths if p.suffix == ".gz")
    folder = landing / "aws_cur" / period_folder_name(FRESH, FRESH) / EXPORT
    folder.mkdir(parents=True)
    (folder / source.name).write_bytes(source.read_bytes())


def measure(root: Path, rows_per_day: int) -> dict:
    """The three runs on one instance under `root`; the figures bench.run records."""
    home = root / "home"
    os.environ.update(
        FINOPS_HOME=str(home),
        FINOPS_BASE_CURRENCY=BASE_CURRENCY,
        FINOPS_ECB_BASE_URL="off",
        FINOPS_PARTITIONS_START="2025-01-01",
    )
    from finops_assets.demo import prepare_instance
    from finops_assets.settings import Settings

    delivery = delivery_path(home / "landing")
    delivery.write_bytes(month_file(root / "scratch-1", rows_per_day))
    restated = month_file(root / "scratch-2", rows_per_day, lambda d: 8 if d == RESTATED else 7)
    budgets = budgets_in(home, BASE_CURRENCY)
    instance = prepare_instance(Settings.from_env())
    first = timed_run(instance, DAYS[0], DAYS[-1], budgets)
    delivery.write_bytes(restated)
    restatement = timed_run(instance, DAYS[0], DAYS[-1], budgets)
    restatement["computed_days"] = computed_days(instance, restatement["run_id"])
    fresh_day_file(home / "landing", root / "scratch-3", rows_per_day)
    fresh = timed_run(instance, FRESH, FRESH, budgets)
    per_fresh_day = first["downstream_step_seconds"] / len(DAYS)
    return {
        "rows_per_day_setting": rows_per_day,
        "days": len(DAYS),
        "restated_day": RESTATED.isoformat(),
        "fresh_day": FRESH.isoformat(),
        "first_load": first,
        "restatement": restatement,
        "fresh": fresh,
        "ratio": restatement["downstream_step_seconds"] / fresh["downstream_step_seconds"],
        "downstream_cpu_ratio": restatement["downstream_step_cpu_seconds"]
        / fresh["downstream_step_cpu_seconds"],
        "run_ratio": restatement["seconds"] / fresh["seconds"],
        "cpu_ratio": restatement["cpu_seconds"] / fresh["cpu_seconds"],
        "ratio_to_first_load_day": restatement["downstream_step_seconds"] / per_fresh_day,
        "seconds": restatement["seconds"],
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.restate", description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=20_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="restate-") as tmp:
        result = measure(Path(tmp), args.rows_per_day)
    print(
        f"  restating 1 of 31 days: downstream {result['restatement']['downstream_step_seconds']:.1f}"
        f" s vs a fresh day {result['fresh']['downstream_step_seconds']:.1f} s, ratio "
        f"{result['ratio']:.2f}; computed days {result['restatement']['computed_days']}",
        file=sys.stderr,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
