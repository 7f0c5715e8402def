"""(a) The product: `python -m bench.product INPUT HOME`, one landed day through the real graph.

The CUR 2.0 Parquet day is laid into a fresh landing folder under HOME as `finops load` lays it
out (`<landing>/aws_cur/<YYYYMMDD-YYYYMMDD>/<export>/`), then one in-process ranged Dagster run
materializes what a newly landed file runs (`loading.run.load_selection`: ingest through
actuation), exactly as `finops load` and the landing sensor launch it. Prints one JSON line: the
run's seconds, each step's seconds from the run's event log, and the allocated day's totals per
business unit read back from the lake. The parent reads this process's peak memory (os.wait4).
"""

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from bench.reference import BASE_CURRENCY, DAY

EXPORT = "bench-cur2"


def lay_out(source: Path, home: Path, day: dt.date) -> Path:
    """A fresh HOME whose landing folder holds `source` as one AWS CUR delivery of `day`."""
    from finops_assets.resources.payloads import period_folder_name

    if home.exists():
        shutil.rmtree(home)
    folder = home / "landing" / "aws_cur" / period_folder_name(day, day) / EXPORT
    folder.mkdir(parents=True)
    shutil.copy2(source, folder / source.name)
    return folder / source.name


def budgets_in(home: Path, base_currency: str) -> Path:
    """The shipped budgets restated in the base currency (budgets must be in it)."""
    from finops_assets.resources.budgets import SHIPPED_BUDGETS

    text = SHIPPED_BUDGETS.read_text(encoding="utf-8")
    path = home / "budgets.yaml"
    path.write_text(text.replace("currency: USD", f"currency: {base_currency}"), "utf-8")
    return path


class RssSampler:
    """This process's resident memory and CPU seconds, sampled every `interval` s in a thread:
    (time, MB, CPU s)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)

    def _sample(self, interval: float) -> None:
        page_mb = os.sysconf("SC_PAGE_SIZE") / 1024**2
        with open("/proc/self/statm", encoding="ascii") as statm:
            while not self._stop.is_set():
                statm.seek(0)
                mb = int(statm.read().split()[1]) * page_mb
                self.samples.append((time.time(), mb, time.process_time()))
                self._stop.wait(interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> float:
        """The highest sampled MB from `start` to `end` (epoch seconds)."""
        return max((mb for t, mb, _ in self.samples if start <= t <= end), default=0.0)

    def cpu_between(self, start: float, end: float) -> float:
        """The process's CPU seconds from `start` to `end` (epoch seconds), to the sampling
        interval (the in-process run executes one step at a time)."""
        before = [cpu for t, _, cpu in self.samples if t <= start]
        upto = [cpu for t, _, cpu in self.samples if t <= end]
        return (upto[-1] if upto else 0.0) - (before[-1] if before else 0.0)


def step_figures(instance: object, run_id: str, sampler: RssSampler) -> dict[str, dict]:
    """Each step's (asset's) seconds, from its STEP_START and STEP_SUCCESS events in the run's
    event log, and the highest resident memory sampled while it ran; slowest first."""
    import dagster as dg

    assert isinstance(instance, dg.DagsterInstance)  # noqa: S101 (type narrowing)
    started: dict[str, float] = {}
    figures = {}
    for entry in instance.all_logs(run_id):
        event, key = entry.dagster_event, entry.step_key
        if event is None or key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[key] = entry.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS and key in started:
            figures[key] = {
                "seconds": round(event.event_specific_data.duration_ms / 1000, 3),  # type: ignore[union-attr]
                "peak_mb": round(sampler.peak_between(started[key], entry.timestamp), 1),
                "cpu_seconds": round(sampler.cpu_between(started[key], entry.timestamp), 2),
            }
    return dict(sorted(figures.items(), key=lambda item: -item[1]["seconds"]))


def run_day(source: Path, home: Path, base_currency: str, day: dt.date = DAY) -> dict:
    """Lay out, run the graph for `day`, read back the totals; the JSON this worker prints."""
    os.environ.update(
        FINOPS_HOME=str(home),
        FINOPS_BASE_CURRENCY=base_currency,
        FINOPS_ECB_BASE_URL="off",  # the shipped ECB seed, no network
        FINOPS_PARTITIONS_START=min(day, dt.date(2025, 1, 1)).isoformat(),
    )
    lay_out(source, home, day)
    budgets = budgets_in(home, base_currency)
    start, cpu = time.perf_counter(), time.process_time()
    from finops_assets.demo import materialize_window, prepare_instance
    from finops_assets.loading.run import load_selection
    from finops_assets.settings import Settings

    settings = Settings.from_env()
    instance = prepare_instance(settings)
    imported = time.perf_counter()
    with RssSampler() as sampler:
        result = materialize_window(
            instance,
            day,
            day,
            load_selection(instance),
            resources={"budgets": {"config": {"path": str(budgets)}}},
        )
    seconds, cpu = time.perf_counter() - imported, time.process_time() - cpu
    steps = step_figures(instance, result.run_id, sampler)
    failed = [event.step_key for event in result.get_step_failure_events()]
    return {
        "impl": "product",
        "success": result.success,
        "failed_steps": failed,
        "run_id": result.run_id,
        "seconds": seconds,
        "startup_seconds": imported - start,
        "cpu_seconds": cpu,
        "steps": {key: figures["seconds"] for key, figures in steps.items()},
        "step_peak_mb": {key: figures["peak_mb"] for key, figures in steps.items()},
        "step_cpu_seconds": {key: figures["cpu_seconds"] for key, figures in steps.items()},
        **lake_totals(settings, day),
    }


def lake_totals(settings: object, day: dt.date) -> dict:
    """The allocated day's rows and totals per business unit, and the normalized day's rows."""
    from bench.reference import totals_text
    from finops_assets.settings import Settings
    from finops_assets.storage import tables
    from finops_assets.storage.delta import DeltaLake

    assert isinstance(settings, Settings)  # noqa: S101 (type narrowing)
    delta = DeltaLake(settings.lake_uri, settings.storage_options)
    allocated = delta.read_day(tables.ALLOCATED_COSTS, day)
    normalized = delta.read_day_columns(tables.NORMALIZED_COSTS, day, ["BilledCost"])
    quarantined = delta.read_day(tables.QUARANTINE, day).height
    return {
        "rows": normalized.height,
        "quarantined_rows": quarantined,
        "totals": totals_text(allocated),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the product on one landed day and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.product")
    parser.add_argument("input", type=Path)
    parser.add_argument("home", type=Path)
    parser.add_argument("--base-currency", default=BASE_CURRENCY)
    parser.add_argument("--profile", type=Path, help="save a pyinstrument profile here")
    args = parser.parse_args(argv)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01, async_mode="disabled")
        profiler.start()
    result = run_day(args.input.resolve(), args.home.resolve(), args.base_currency)
    if profiler is not None:
        profiler.stop()
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        args.profile.write_text(profiler.output_text(unicode=False, color=False), "utf-8")
    print(json.dumps(result))
    return 0 if result["success"] else 1


if __name__ == "__main__":
    sys.exit(main())
