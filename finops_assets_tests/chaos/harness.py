"""The estate a fault is injected into, and runs of the money path that can be killed.

Each fault starts from a copy of one baseline home (landing folder, lake, Dagster instance,
outbox) in which every day of the window was materialized once. The untouched billing files are
kept beside it (`pristine/`) as the truth. Runs are child processes (`run_window`) so that a
fault can kill one with SIGKILL at a chosen moment: when a step starts (from the instance's event
log) or right after a table's Delta commit (a new `_delta_log` entry), before Dagster records it.
"""

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from finops_assets.instance_health import LocalRunLauncher
from finops_assets.sample.generate import generate_estate
from finops_assets.storage.delta import DeltaLake

KILL_WAIT_SECONDS = 120  # a kill point not reached by then ends the run normally (reported)


@dataclass
class RunOutcome:
    """How one child run ended: exit code (negative = killed by that signal) and its run id."""

    returncode: int
    run_id: str | None
    killed: bool = False


class Estate:
    """One fault's home: FINOPS_HOME with landing, lake and instance; pristine files beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.pristine = root / "pristine"
        self.resources: dict[str, dict[str, object]] = {}  # run config of resources, if any

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def lake(self) -> DeltaLake:
        return DeltaLake(str(self.home / "lake"))

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FINOPS_HOME": str(self.home),
            "DAGSTER_HOME": str(self.home / "dagster"),
            "FINOPS_PARTITIONS_START": "2026-10-01",
            "FINOPS_CHAOS_RESOURCES": json.dumps(self.resources),
        }

    def copy_to(self, root: Path) -> "Estate":
        """A fresh copy of this estate for one fault."""
        shutil.copytree(self.root, root)
        return Estate(root)

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home / "dagster"))

    def start(self, first: dt.date, last: dt.date) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "finops_assets_tests.chaos.run_window"]
        return subprocess.Popen(
            [*command, first.isoformat(), last.isoformat()],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=(self.root / "runs.log").open("ab"),
        )

    def run(self, first: dt.date, last: dt.date) -> RunOutcome:
        """Run the money path for first..last to its end."""
        return _outcome(self.start(first, last), killed=False)

    def run_and_kill(self, first: dt.date, last: dt.date, point: "KillPoint") -> RunOutcome:
        """Run first..last and SIGKILL the run process once `point` is reached."""
        before = point.baseline(self)
        process = self.start(first, last)
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            if point.reached(self, before):
                time.sleep(point.delay_seconds)
                process.send_signal(signal.SIGKILL)
                return _outcome(process, killed=True)
            time.sleep(0.02)
        return _outcome(process, killed=False)

    def newest_run(self) -> dg.DagsterRun | None:
        with self.instance() as instance:
            runs = instance.get_runs(limit=1)
            return runs[0] if runs else None


def failed_steps(estate: Estate, run_id: str | None) -> list[str]:
    """The steps that failed in a run (empty when it succeeded or is unknown)."""
    if run_id is None:
        return []
    with estate.instance() as instance:
        records = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        return sorted({record.step_key for record in records if record.step_key})


def _outcome(process: subprocess.Popen[bytes], killed: bool) -> RunOutcome:
    stdout, _ = process.communicate()
    run_id = None
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith('{"run_id"'):
            run_id = line.split('"')[3]
    return RunOutcome(process.returncode, run_id, killed)


@dataclass(frozen=True)
class KillPoint:
    """Where to kill: when step `step` starts, or after a new commit of Delta table `table`."""

    label: str
    step: str = ""
    table: str = ""
    delay_seconds: float = 0.0

    def baseline(self, estate: Estate) -> int:
        return _log_entries(estate, self.table) if self.table else 0

    def reached(self, estate: Estate, before: int) -> bool:
        if self.table:
            return _log_entries(estate, self.table) > before
        return _step_started(estate, self.step)


def _log_entries(estate: Estate, table: str) -> int:
    log = estate.home / "lake" / table / "_delta_log"
    return len(list(log.glob("*.json"))) if log.is_dir() else 0


def _step_started(estate: Estate, step: str) -> bool:
    run = estate.newest_run()
    if run is None or run.status != dg.DagsterRunStatus.STARTED:
        return False
    with estate.instance() as instance:
        records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
        return any(record.step_key == step for record in records)


def worker_is_dead(estate: Estate, run_id: str | None) -> bool:
    """What run monitoring would find: the killed run's worker is gone (LocalRunLauncher)."""
    if run_id is None:
        run = estate.newest_run()
    else:
        with estate.instance() as instance:
            run = instance.get_run_by_id(run_id)
    if run is None:
        return False
    with estate.instance() as instance:
        launcher = LocalRunLauncher()
        launcher.register_instance(instance)
        return launcher.check_run_worker_health(run).status.value == "FAILED"


def build_baseline(root: Path, days: list[dt.date], rows_per_day: int, seed: int) -> Estate:
    """Generate the estate, keep a pristine copy, and materialize every day once."""
    estate = Estate(root)
    generate_estate(estate.landing, days[0], len(days), seed, rows_per_day)
    shutil.copytree(estate.landing, estate.pristine)
    outcome = estate.run(days[0], days[-1])
    if outcome.returncode != 0:
        raise RuntimeError(f"the baseline run failed; see {root / 'runs.log'}")
    return estate
