"""The production topology on one host, for tests: a gRPC code server, the daemon, the webserver.

Three separate processes, as in the Helm chart's pods: `dagster api grpc` serves the code
location on a free port of 127.0.0.1, and `dagster-daemon` and `dagster-webserver` reach it
through a workspace file with a `grpc_server` entry (they load no code themselves). Runs are
launched by the daemon through the code server (DefaultRunLauncher), each in its own process.
The instance (DAGSTER_HOME/dagster.yaml) is the caller's: PostgreSQL in the topology test.
The daemon can be restarted alone (`restart_daemon`), as a pod would be.
"""

import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen  # noqa: S404 - the test starts its own servers

import yaml

from finops_assets_tests.servers.dagster_stack import (
    BIN,
    LOCATION,
    DagsterStack,
    _start,
    _stop,
    _wait_ready,
    free_port,
)


@dataclass
class ProductionStack:
    """The webserver's address and the processes of the code server and the daemon."""

    web: DagsterStack
    env: dict[str, str]
    workspace: Path
    code_server: Popen
    daemon: Popen
    daemon_starts: list[float] = field(default_factory=list)

    def start_daemon(self) -> None:
        """Start `dagster-daemon run` on the workspace (gRPC server entry)."""
        self.daemon = _start(
            [str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace)],
            self.env,
            self.web.home / "daemon.log",
        )
        self.daemon_starts.append(time.time())

    def stop_daemon(self) -> None:
        """Stop the daemon as a pod stop does: SIGTERM to its process group, then SIGKILL."""
        _stop(self.daemon)


def _wait_listening(port: int, process: Popen, log: Path, timeout: float = 180) -> None:
    """The code server binds its port only once the definitions are loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster api grpc exited: {log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"code server not listening on {port}: {log.read_text()[-3000:]}")


def write_workspace(path: Path, port: int) -> Path:
    """A workspace file whose one location is the gRPC code server on 127.0.0.1:`port`."""
    entry = {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": LOCATION}}
    path.write_text(yaml.safe_dump({"load_from": [entry]}), encoding="utf-8")
    return path


@contextmanager
def running_production_stack(
    home: Path, module: str, env: Mapping[str, str]
) -> Iterator[ProductionStack]:
    """Code server on `module`, then the daemon and webserver on it; all stopped on exit.

    `home` is DAGSTER_HOME with its dagster.yaml already written; `env` is the full environment
    of every process (DAGSTER_HOME, DAGSTER_PG_*, FINOPS_*, AWS_*).
    """
    full_env = {**env, "DAGSTER_HOME": str(home)}
    grpc_port, web_port = free_port(), free_port()
    server_log = home / "code_server.log"
    code_server = _start(
        [str(BIN / "dagster"), "api", "grpc", "--module-name", module,
         "--host", "127.0.0.1", "--port", str(grpc_port)],
        full_env,
        server_log,
    )  # fmt: skip
    processes: list[Popen] = [code_server]
    stack = None
    try:
        _wait_listening(grpc_port, code_server, server_log)
        workspace = write_workspace(home / "workspace.yaml", grpc_port)
        web = DagsterStack(f"http://127.0.0.1:{web_port}", home, home / "webserver.log")
        webserver = _start(
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port),
             "-w", str(workspace)],
            full_env,
            web.logs,
        )  # fmt: skip
        processes.append(webserver)
        stack = ProductionStack(web, full_env, workspace, code_server, code_server)
        stack.start_daemon()
        _wait_ready(web, webserver)
        yield stack
    finally:
        if stack is not None:
            _stop(stack.daemon)
        for process in reversed(processes):
            _stop(process)
