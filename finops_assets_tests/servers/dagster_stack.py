"""A real dagster-webserver and dagster-daemon against a temp DAGSTER_HOME, for tests.

Both run from the project's venv on 127.0.0.1 with a workspace of one Python file; they die with
the test process (PR_SET_PDEATHSIG) and are killed by process group on teardown.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

BIN = Path(sys.executable).parent
LOCATION = "finops_assets"
INSTANCE_YAML = """\
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, and lead a process group."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setsid()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class DagsterStack:
    """Where the webserver answers, and the instance home both processes share."""

    url: str
    home: Path
    logs: Path

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict:
        """POST a GraphQL query; raises on transport or GraphQL errors, returns `data`."""
        reply = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        reply.raise_for_status()
        body = reply.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def repository_selector(self) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}


def prepare_home(home: Path, instance_yaml: str | None = None) -> Path:
    """Create DAGSTER_HOME with an instance file (default: telemetry and nux off, fast dequeue)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(instance_yaml or INSTANCE_YAML, encoding="utf-8")
    return home


def _start(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen(
        args,
        env=dict(env),
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_ready(stack: DagsterStack, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited: {stack.logs.read_text()[-3000:]}")
        try:
            data = stack.graphql("{ workspaceOrError { ... on Workspace { id } } }")
            location = stack.graphql(
                "{ workspaceLocationEntryOrError(name: $n) { ... on WorkspaceLocationEntry "
                "{ loadStatus } } }".replace("$n", f'"{LOCATION}"')
            )
            entry = location["workspaceLocationEntryOrError"] or {}
            if data and entry.get("loadStatus") == "LOADED":
                return
        except (requests.RequestException, RuntimeError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"dagster-webserver not ready: {stack.logs.read_text()[-3000:]}")


@contextmanager
def running_dagster_stack(
    home: Path,
    definitions_file: Path,
    env: Mapping[str, str] | None = None,
    instance_yaml: str | None = None,
) -> Iterator[DagsterStack]:
    """Start dagster-webserver and dagster-daemon on the definitions in `definitions_file`."""
    prepare_home(home, instance_yaml)
    workspace = home / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_file:\n"
        f"      relative_path: {definitions_file}\n"
        f"      location_name: {LOCATION}\n"
        f"      working_directory: {definitions_file.parent}\n",
        encoding="utf-8",
    )
    full_env = {**os.environ, **(env or {}), "DAGSTER_HOME": str(home)}
    port = free_port()
    logs = home / "stack.log"
    stack = DagsterStack(f"http://127.0.0.1:{port}", home, logs)
    web = _start(
        [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", str(workspace)],
        full_env,
        logs,
    )
    daemon = None
    try:
        daemon = _start([str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], full_env, logs)
        _wait_ready(stack, web)
        yield stack
    finally:
        for process in (daemon, web):
            if process is not None:
                _stop(process)
