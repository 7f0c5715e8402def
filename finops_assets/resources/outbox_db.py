"""The outbox's database: SQLite under FINOPS_HOME (embedded) or the instance's PostgreSQL.

Both are reached through one small wrapper: SQL is written once with `?` placeholders and `{p}`
before each table name (`outbox_` in SQLite, the `finops_outbox.` schema in PostgreSQL). Every
write runs in a transaction that takes the write lock first (SQLite `BEGIN IMMEDIATE`, WAL
journal; PostgreSQL row locks of conditional UPDATEs), so concurrent runs, processes and pods
hand events off without a file lock.
"""

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from finops_assets.settings import Settings

OUTBOX_SCHEMA = "finops_outbox"

_TABLES = """
CREATE TABLE IF NOT EXISTS {p}events (
    seq {serial}, event_id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL,
    enqueued_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS {p}deliveries (
    event_id TEXT NOT NULL, sink TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, claimed_by TEXT, lease_until DOUBLE PRECISION,
    error TEXT, updated_at DOUBLE PRECISION, PRIMARY KEY (event_id, sink));
CREATE TABLE IF NOT EXISTS {p}sink_leases (
    sink TEXT PRIMARY KEY, claimed_by TEXT, lease_until DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS {p}attempts (
    id {serial}, event_id TEXT NOT NULL, sink TEXT NOT NULL, attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL, error TEXT, worker TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)
"""


class OutboxUnavailableError(RuntimeError):
    """The outbox database cannot be reached; the message names the settings to check."""


@dataclass(frozen=True)
class OutboxDatabase:
    """Where the outbox lives: `sqlite_path`, or PostgreSQL reached with `postgres` parameters.

    `postgres` holds psycopg2 connect() keywords (host, port, user, password, dbname); the
    tables go in `schema`, created on first use.
    """

    sqlite_path: Path | None = None
    postgres: Mapping[str, str] = field(default_factory=dict, repr=False)
    schema: str = OUTBOX_SCHEMA

    @property
    def kind(self) -> str:
        return "postgres" if self.postgres else "sqlite"

    def describe(self) -> str:
        """Where the outbox is, without the password."""
        if self.postgres:
            pg = self.postgres
            return (
                f"postgresql://{pg.get('host')}:{pg.get('port')}/{pg.get('dbname')} {self.schema}"
            )
        return f"sqlite:{self.sqlite_path}"

    @contextmanager
    def connect(self) -> Iterator["OutboxConnection"]:
        """An open connection with the tables created; closed on exit."""
        connection = OutboxConnection(self)
        try:
            connection.create_tables()
            yield connection
        finally:
            connection.close()


def outbox_database(settings: "Settings", events_dir: Path) -> OutboxDatabase:
    """The outbox FINOPS_OUTBOX_DATABASE names: PostgreSQL (the instance's, its own schema) or
    SQLite under `events_dir`."""
    if settings.outbox_database == "postgres":
        return OutboxDatabase(postgres=settings.outbox_postgres, schema=settings.outbox_schema)
    return OutboxDatabase(sqlite_path=events_dir / "outbox" / "outbox.sqlite3")


class OutboxConnection:
    """One DB-API connection in autocommit mode; `transaction()` groups statements."""

    def __init__(self, database: OutboxDatabase) -> None:
        self.database = database
        self.postgres = database.kind == "postgres"
        if self.postgres:
            import psycopg2

            try:
                self._raw: Any = psycopg2.connect(connect_timeout=10, **dict(database.postgres))
            except psycopg2.OperationalError as error:  # libpq's text names host and user only
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise OutboxUnavailableError(
                    f"the event outbox database {database.describe()} (FINOPS_OUTBOX_DATABASE="
                    f"postgres, DAGSTER_PG_HOST/PORT/USER/DB/PASSWORD) cannot be reached: "
                    f"{first_line}"
                ) from None
            self._raw.autocommit = True
            self.prefix = f"{database.schema}."
        else:
            if database.sqlite_path is None:
                raise ValueError("OutboxDatabase needs sqlite_path or postgres parameters")
            database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            self._raw = sqlite3.connect(str(database.sqlite_path), timeout=60, isolation_level=None)
            self._raw.execute("PRAGMA journal_mode=WAL")
            self._raw.execute("PRAGMA busy_timeout=60000")
            self.prefix = "outbox_"

    def sql(self, text: str) -> str:
        """`text` with table prefixes filled in and the driver's placeholder style."""
        text = text.replace("{p}", self.prefix)
        return text.replace("?", "%s") if self.postgres else text

    def execute(self, text: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        cursor = self._raw.cursor()
        try:
            cursor.execute(self.sql(text), tuple(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def query(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one SELECT."""
        cursor = self._raw.cursor()
        try:
            cursor.execute(self.sql(text), tuple(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements inside commit together or not at all (SQLite takes the write lock first)."""
        self._raw.cursor().execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._raw.cursor().execute("ROLLBACK")
            raise
        self._raw.cursor().execute("COMMIT")

    def create_tables(self) -> None:
        """The tables (and PostgreSQL schema), created once; safe when processes race."""
        serial = "BIGSERIAL PRIMARY KEY" if self.postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
        with self.transaction():
            if self.postgres:  # concurrent CREATE ... IF NOT EXISTS can collide in PostgreSQL
                self.execute("SELECT pg_advisory_xact_lock(?)", (0x0F1A0B0C,))
                self.execute(f"CREATE SCHEMA IF NOT EXISTS {self.database.schema}")
            for statement in _TABLES.split(";"):
                self.execute(statement.replace("{serial}", serial))

    def now(self) -> float:
        """Seconds since the epoch by the database's clock (PostgreSQL: one clock for all pods)."""
        if not self.postgres:
            return time.time()
        [(seconds,)] = self.query("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8")
        return float(seconds)

    def close(self) -> None:
        self._raw.close()
