"""A real PostgreSQL 15 server on 127.0.0.1 for tests: initdb, start, create a database, stop.

PostgreSQL refuses to run as root, so when the tests run as root (CI) every server command runs
as the `postgres` user through `runuser`, in a temp folder that user owns.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from finops_assets_tests.tools import require_tool

PG_BIN_CANDIDATES = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (15, 16, 17, 14)]


@dataclass(frozen=True)
class PostgresServer:
    """How to reach the test server; env() gives the DAGSTER_PG_* variables of dagster.yaml."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def env(self) -> dict[str, str]:
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.database,
        }

    def connect(self):  # type: ignore[no-untyped-def]
        """A psycopg2 connection to the test database."""
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
        )


def _pg_bin() -> Path:
    for folder in PG_BIN_CANDIDATES:
        if (folder / "pg_ctl").exists():
            return folder
    raise RuntimeError(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
        "run scripts/install-tools.sh (apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(_as_postgres(command), check=True, capture_output=True, **kwargs)


@contextmanager
def running_postgres(database: str = "dagster") -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server with one database and role; stop it on exit."""
    require_tool("postgresql")
    pg_bin = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="finops-pg-"))
    os.chmod(root, 0o755)
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port, password = _free_port(), "finops-test"
    _run([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
          "--auth-host=scram-sha-256", "--no-sync"])  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    _run([str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start"])
    try:
        psql = [str(pg_bin / "psql"), "-h", str(sockets), "-p", str(port)]
        psql += ["-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c"]
        _run([*psql, f"CREATE ROLE finops LOGIN PASSWORD '{password}'"])
        _run([*psql, f"CREATE DATABASE {database} OWNER finops"])
        yield PostgresServer("127.0.0.1", port, "finops", password, database)
    finally:
        _run([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)
