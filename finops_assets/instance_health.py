"""Killed runs end FAILED, and their step processes die with them (the embedded, one-host profile).

Dagster's default run launcher cannot tell whether a run worker is alive, so run monitoring
leaves a run whose worker was killed with its code server (or a `finops demo` process killed
with kill -9) STARTED forever. `LocalRunLauncher` is the default launcher plus a health check:
the process that logged the run's RUN_START event must still exist (same pid, started before
that event, so a reused pid does not count). The daemon's run monitoring then marks a dead run
FAILED, and run retries start it again.

A run worker killed with SIGKILL leaves its step processes running (multiprocess executor,
spawn): they would go on writing Delta tables beside the retry. `reap_orphaned_steps_sensor`
kills, for every failed or canceled run, the step processes still alive (pid of each STEP_START
event, same start-time test). It acts only on an instance whose launcher is `LocalRunLauncher`,
where runs, steps and the daemon share one host; elsewhere pids mean nothing here.

Dagster's private launcher types come from finops_assets.dagster_private (pinned by a test).
"""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from finops_assets.dagster_private import CheckRunHealthResult, WorkerStatus

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_START_SLACK_SECONDS = 2.0  # /proc start times have 1/CLK_TCK resolution; boot time 1 s


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text(encoding="ascii").splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished; only its exit status is left
        return None
    return _boot_time() + int(fields[19]) / _CLOCK_TICKS


def is_same_process_alive(pid: int, seen_at: float) -> bool:
    """True when `pid` runs and is the process that was running at `seen_at` (not a reuse)."""
    started = process_start_time(pid)
    return started is not None and started <= seen_at + _START_SLACK_SECONDS


def _event_pids(
    instance: dg.DagsterInstance, run_id: str, event_type: dg.DagsterEventType
) -> Iterator[tuple[int, float]]:
    for record in instance.all_logs(run_id, of_type=event_type):
        event = record.dagster_event
        if event is not None and event.pid is not None:
            yield event.pid, record.timestamp


class LocalRunLauncher(dg.DefaultRunLauncher):
    """The default launcher, plus a worker health check for run monitoring (one host only)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        """RUNNING while the process that started the run lives; FAILED once it is gone."""
        starts = list(_event_pids(self._instance, run.run_id, dg.DagsterEventType.RUN_START))
        if not starts:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no RUN_START event yet")
        pid, seen_at = starts[-1]
        if is_same_process_alive(pid, seen_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"run worker process {pid} is gone (killed or crashed)"
        )


def kill_orphaned_steps(instance: dg.DagsterInstance, run_id: str) -> list[int]:
    """SIGKILL every step process of a finished run that is still alive; the pids killed."""
    killed = []
    for pid, seen_at in _event_pids(instance, run_id, dg.DagsterEventType.STEP_START):
        if pid == os.getpid() or not is_same_process_alive(pid, seen_at):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.append(pid)
    return killed


def _reap(context: dg.RunStatusSensorContext) -> dg.SkipReason | None:
    instance = context.instance
    if not isinstance(instance.run_launcher, LocalRunLauncher):
        return dg.SkipReason("run launcher is not LocalRunLauncher: step pids are not local")
    run = context.dagster_run
    killed = kill_orphaned_steps(instance, run.run_id)
    if killed:
        instance.report_engine_event(
            f"Killed step processes {killed} left running by the {run.status.value} run",
            run,
        )
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    name="reap_orphaned_steps_sensor",
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
)
def reap_orphaned_steps_sensor(context: dg.RunStatusSensorContext) -> dg.SkipReason | None:
    """A failed run's step processes that outlived its killed worker are stopped (one host)."""
    return _reap(context)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.CANCELED,
    name="reap_canceled_steps_sensor",
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
)
def reap_canceled_steps_sensor(context: dg.RunStatusSensorContext) -> dg.SkipReason | None:
    """A canceled run's step processes that did not stop with it are stopped (one host)."""
    return _reap(context)
