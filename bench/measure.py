"""Run one benchmark process and measure it: its own seconds and its peak memory (os.wait4)."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Measured:
    """What a worker reported (seconds of the work, rows, payload) and its peak memory."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    rows: int
    payload: dict


def run_process(args: list[str]) -> Measured:
    """`python -m <args>` in a child process; its last stdout line is its JSON result.

    Peak memory is the child's ru_maxrss from os.wait4 (Linux: KiB), this child only.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLARS_MAX_THREADS": "2"}
    command = [sys.executable, "-m", *args]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed with exit code {process.returncode}")
    lines = [line for line in output.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1])
    return Measured(
        seconds=float(result["seconds"]),
        cpu_seconds=float(result.get("cpu_seconds", 0.0)),
        peak_mb=usage.ru_maxrss / 1024,
        rows=int(result.get("rows", 0)),
        payload=result,
    )
