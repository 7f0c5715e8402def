"""A `finops` command started in the background of a script can still be stopped with SIGTERM.

A shell starts a script's background job (`finops load ... &`) with SIGINT ignored. Dagster's
in-process runs map SIGTERM to SIGINT's handler for the run's length
(`dagster._utils.interrupts.setup_interrupt_handlers`), so with SIGINT ignored, SIGTERM was
ignored too while the run lasted: `kill` could not stop the command, nor any child it started.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignored_signals(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    line = next((ln for ln in status.splitlines() if ln.startswith("SigIgn:")), None)
    return None if line is None else int(line.split()[1], 16)


@pytest.mark.slow
def test_a_background_demo_never_ignores_sigterm_while_its_run_lasts(tmp_path):
    env = {**os.environ, "FINOPS_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "finops_assets.cli", "demo", "--days", "1"]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [*command, "--rows-per-day", "20"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_ignore_sigint,  # noqa: PLW1509 - what a shell does to a background job
    )
    seen: set[int] = set()
    deadline = time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        ignored = _ignored_signals(process.pid)
        if ignored is not None:
            seen.add(ignored)
        time.sleep(0.02)
    if process.poll() is None:
        process.kill()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert len(seen) > 1, "the run's signal dispositions were never sampled"
    sigterm = 1 << (signal.SIGTERM - 1)
    assert not [hex(mask) for mask in seen if mask & sigterm], "SIGTERM ignored during the run"
