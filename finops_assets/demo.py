"""`finops demo`: the sample estate through every stage, in-process, on the embedded default."""

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg

from finops_assets.concurrency import initialize_writer_pools
from finops_assets.partitions import REVIEW_GROUP, check_partition_key
from finops_assets.sample.generate import DEFAULT_ROWS_PER_DAY, DEFAULT_SEED, generate_estate
from finops_assets.settings import DEFAULT_ECB_BASE_URL, Settings

DEMO_START = dt.date(2026, 10, 1)
DEMO_DAYS = 31
EMBEDDED_MAX_CONCURRENT_RUNS = 2
INSTANCE_HEADER = "# Embedded default"
INSTANCE_YAML = f"""\
{INSTANCE_HEADER} written by finops (finops_assets/demo.py), rewritten while this line stays.
# SQLite storage under this folder. See deploy/dagster/dagster.yaml for PostgreSQL.
# Runs are queued as in production: at most 2 at once (2 cores), one per charge day
# (dagster/partition), and one writer per table (each writing asset's pool write_<table> has one
# slot; run granularity: a run waits in the queue until every table it writes is free, and an
# in-process run such as `finops demo` never holds a slot that a killed process could leave).
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: {EMBEDDED_MAX_CONCURRENT_RUNS}
    tag_concurrency_limits:
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
  pools:
    default_limit: 1
    granularity: run
# Dagster's SQLite storage under this folder, its event log with one SQLAlchemy engine per file
# instead of one per event (finops_assets/event_log_storage.py; same files under history/).
instance_class:
  module: finops_assets.event_log_storage
  class: EmbeddedInstance
telemetry:
  enabled: false
nux:
  enabled: false
# A killed run becomes FAILED (the daemon of `finops dev` checks each run's worker every 5 s, see
# finops_assets/instance_health.py) and a run whose worker crashed is retried once.
run_launcher:
  module: finops_assets.instance_health
  class: LocalRunLauncher
run_monitoring:
  enabled: true
  poll_interval_seconds: 5
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
run_retries:
  enabled: true
  max_retries: 1
  retry_on_asset_or_op_failure: false
"""


@dataclass(frozen=True)
class DemoRun:
    """What the demo did: the window, files written, and whether the Dagster run succeeded."""

    start: dt.date
    end: dt.date
    files_changed: int
    run_id: str
    success: bool


def prepare_instance(settings: Settings) -> dg.DagsterInstance:
    """The Dagster instance under FINOPS_HOME (SQLite), the one `make dev` opens too.

    The embedded dagster.yaml is (re)written unless someone replaced it with their own, and the
    table writer pools get their limit before any run is queued.
    """
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8").startswith(INSTANCE_HEADER):
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    instance = dg.DagsterInstance.get()
    from finops_assets.definitions import defs

    initialize_writer_pools(instance, defs.resolve_asset_graph())
    return instance


class _StepProgress(logging.Handler):
    """Turns Dagster's step events into one line per finished step (asset), nothing else."""

    def __init__(self, report: Callable[[str], None]) -> None:
        super().__init__(level=logging.DEBUG)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        if not isinstance(event, dg.DagsterEvent) or event.step_key is None:
            return
        if event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            seconds = getattr(event.event_specific_data, "duration_ms", 0) / 1000
            self.report(f"  done    {event.step_key} ({seconds:.1f} s)")
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            self.report(f"  FAILED  {event.step_key}")


def progress_logger(report: Callable[[str], None]) -> dg.LoggerDefinition:
    """A Dagster logger that reports each step as it finishes (the demo's quiet progress)."""

    def progress(_init_context: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger("finops_progress", level=logging.DEBUG)
        log.addHandler(_StepProgress(report))
        return log

    return dg.LoggerDefinition(progress, description="one line per finished step")


def window_job(selection: str = "*") -> dg.JobDefinition:
    """The job of a ranged window run: the named assets (comma separated), or "*": every asset
    but the review group (the allocation preview runs on request, with a candidate file)."""
    from finops_assets.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    if selection == "*":
        everything = dg.AssetSelection.all() - dg.AssetSelection.groups(REVIEW_GROUP)
        return job.get_subset(asset_selection=everything.resolve(defs.resolve_asset_graph()))
    return job.get_subset(asset_selection={dg.AssetKey(k) for k in selection.split(",")})


def materialize_window(
    instance: dg.DagsterInstance,
    start: dt.date,
    end: dt.date,
    selection: str = "*",
    progress: Callable[[str], None] | None = None,
    resources: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize every asset for the days start..end in one in-process, ranged run.

    Dagster's console logs only warnings; `progress`, when given, gets one line per finished step;
    `resources` is the run config of resources (e.g. {"rates": {"config": {...}}}); `tags` are
    added to the run's (e.g. day_memo.RECOMPUTE_TAG to compute every day again).
    """
    job = window_job(selection)
    loggers: dict = {"console": {"config": {"log_level": "WARNING"}}}
    if progress is not None:
        job = job.with_logger_defs({**job.loggers, "progress": progress_logger(progress)})
        loggers["progress"] = {}
    return job.execute_in_process(
        instance=instance,
        run_config={"loggers": loggers, "resources": resources or {}},
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
            "finops/trigger": "finops demo",
            **(tags or {}),
        },
        raise_on_error=False,
    )


def demo_rates_config(settings: Settings) -> dict[str, Any]:
    """The demo runs offline: FX from the shipped ECB seed only, unless FINOPS_ECB_BASE_URL is set.

    With the live feed on, a day after the seed's last published day (2026-10-30; the demo's
    2026-10-31 is a Saturday) waits for the ECB to publish, which on a machine without internet
    means the run waits for hours instead of finishing. Offline, such a day takes the last rate
    within the lookback, as the seed allows. Returned as the `rates` resource's run config.
    """
    if settings.ecb_base_url != DEFAULT_ECB_BASE_URL:
        return {}
    return {"rates": {"config": {"base_url": "off"}}}


def run_demo(
    settings: Settings,
    start: dt.date = DEMO_START,
    days: int = DEMO_DAYS,
    rows_per_day: int = DEFAULT_ROWS_PER_DAY,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
) -> DemoRun:
    """Generate the sample estate into the landing folder, then materialize the whole graph."""
    if days < 1:
        raise ValueError(f"--days must be at least 1, not {days}")
    end = start + dt.timedelta(days=days - 1)
    check_partition_key(start.isoformat())
    check_partition_key(end.isoformat())
    generated = generate_estate(settings.landing_dir, start, days, seed, rows_per_day)
    instance = prepare_instance(settings)
    rates = demo_rates_config(settings)
    result = materialize_window(instance, start, end, progress=progress, resources=rates)
    return DemoRun(start, end, generated.changed, result.run_id, result.success)
