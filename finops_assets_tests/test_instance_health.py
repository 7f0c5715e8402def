"""Killed runs end FAILED and are retried; terminating or killing a run stops its step processes.

Everything is real: the embedded profile's dagster.yaml (demo.INSTANCE_YAML), a SQLite instance
in a temp folder, a `dagster-daemon` process started here, runs launched by that daemon through
its code server, and processes killed with SIGKILL. The code location is a one-asset test
location (chaos/sleepy_defs.py) whose step waits to be killed.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from finops_assets.demo import INSTANCE_YAML
from finops_assets.instance_health import (
    LocalRunLauncher,
    is_same_process_alive,
    process_start_time,
)

BIN = Path(sys.executable).parent
WAIT_SECONDS = 90  # a bound on every wait below; each normally ends in a few seconds


def wait_for(what: str, condition: Callable[[], object], timeout: float = WAIT_SECONDS) -> object:
    """Poll `condition` until it is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    return int(stat.rsplit(")", 1)[1].split()[1])


class Daemon:
    """A DAGSTER_HOME with the embedded profile's instance config and a running dagster-daemon."""

    def __init__(self, root: Path) -> None:
        self.home, self.pids = root / "dagster", root / "pids"
        self.home.mkdir()
        config = yaml.safe_load(INSTANCE_YAML)
        config.setdefault(
            "run_coordinator",
            {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"},
        )
        (self.home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.workspace = root / "workspace.yaml"
        location = {"python_module": "finops_assets_tests.chaos.sleepy_defs"}
        self.workspace.write_text(yaml.safe_dump({"load_from": [location]}), encoding="utf-8")
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "FINOPS_CHAOS_PID_DIR": str(self.pids),
        }
        # Create the SQLite storage before the daemon starts: two processes creating it at
        # once can meet "database is locked" on its first PRAGMA.
        with dg.DagsterInstance.from_config(str(self.home)):
            pass
        self.process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=(root / "daemon.log").open("wb"),
            start_new_session=True,
        )

    def launch(self) -> None:
        """Queue one run of sleepy_job (the daemon dequeues and launches it)."""
        subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-j", "sleepy_job", "-w", str(self.workspace)],
            env=self.env,
            check=True,
            capture_output=True,
        )

    def step_pids(self) -> set[int]:
        return {int(p.name.split("-")[1].split(".")[0]) for p in self.pids.glob("step-*.pid")}

    def wait_new_step(self, known: set[int]) -> int:
        """The pid of the next step that starts waiting."""
        return next(iter(wait_for("a step to start", lambda: self.step_pids() - known)))  # type: ignore[call-overload]

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    running = Daemon(tmp_path)
    yield running
    running.stop()
    for pid in running.step_pids():  # never leave a waiting step behind, whatever happened
        if process_start_time(pid) is not None:
            os.kill(pid, signal.SIGKILL)


def test_dagster_version_is_the_one_the_private_imports_were_checked_on() -> None:
    """instance_health imports dagster._core.launcher.base; an upgrade must re-check it."""
    assert dg.__version__ == "1.13.27"


def test_the_default_launcher_cannot_tell_a_dead_worker() -> None:
    """Why LocalRunLauncher exists: with Dagster's default one, monitoring skips the check."""
    assert not dg.DefaultRunLauncher().supports_check_run_worker_health
    assert LocalRunLauncher().supports_check_run_worker_health


def test_a_pid_reused_after_the_event_is_not_the_same_process() -> None:
    now = time.time()
    assert is_same_process_alive(os.getpid(), now)
    assert not is_same_process_alive(os.getpid(), now - 3600)  # this process started later
    assert process_start_time(2**22 + 1) is None


def runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(reversed(instance.get_runs()))


@pytest.mark.slow
def test_killed_runs_end_failed_are_retried_and_leave_no_step_behind(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(daemon.home))  # undone after the test, not leaked
    with dg.DagsterInstance.from_config(str(daemon.home)) as instance:
        assert isinstance(instance.run_launcher, LocalRunLauncher)
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        daemon.launch()
        # 1. kill -9 of the run worker alone: FAILED, its step killed, the run retried.
        step = daemon.wait_new_step(set())
        worker = parent_pid(step)
        os.kill(worker, signal.SIGKILL)
        first = runs(instance)[0]
        wait_for(
            "the killed run to be FAILED", lambda: _status(instance, first.run_id) == "FAILURE"
        )
        wait_for("its orphaned step to die", lambda: process_start_time(step) is None)
        retry_step = daemon.wait_new_step({step})
        retry = runs(instance)[-1]
        assert retry.tags.get("dagster/parent_run_id") == first.run_id
        # 2. kill -9 of the run worker together with its code server: nothing left to report
        # the crash but run monitoring, which must find the worker gone.
        worker = parent_pid(retry_step)
        server = parent_pid(worker)
        os.kill(server, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)
        wait_for("the retry to be FAILED", lambda: _status(instance, retry.run_id) == "FAILURE")
        wait_for("its step to die", lambda: process_start_time(retry_step) is None)
        failure_messages = [
            record.message for record in instance.all_logs(retry.run_id) if record.message
        ]
        assert any("is gone" in message for message in failure_messages), failure_messages
        # 3. terminating a run (the UI's Terminate) stops its step process too.
        known = daemon.step_pids()
        daemon.launch()
        step = daemon.wait_new_step(known)
        third = runs(instance)[-1]
        assert instance.run_launcher.terminate(third.run_id)
        wait_for("the terminated run to end", lambda: _status(instance, third.run_id) != "STARTED")
        wait_for("the terminated run's step to stop", lambda: process_start_time(step) is None)


def _status(instance: dg.DagsterInstance, run_id: str) -> str:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status.value
