"""Where the event outbox lives, as a Dagster resource: a local twin (SQLite under the events
folder) and a real one (the instance's PostgreSQL, in its own schema).

definitions.py registers one per deployment profile; the production twin takes its connection
through dg.EnvVar (DAGSTER_PG_*), read at launch and hidden in the UI.
"""

from pathlib import Path

from dagster import ConfigurableResource

from finops_assets.resources.outbox_db import OUTBOX_SCHEMA, OutboxDatabase


class OutboxStoreResource(ConfigurableResource):
    """The outbox's database (interface)."""

    def database(self, events_dir: Path) -> OutboxDatabase:
        """The database holding the outbox of `events_dir`'s deployment."""
        raise NotImplementedError


class SqliteOutboxResource(OutboxStoreResource):
    """The embedded twin: SQLite at `path` (empty: <events>/outbox/outbox.sqlite3)."""

    path: str = ""

    def database(self, events_dir: Path) -> OutboxDatabase:
        path = Path(self.path) if self.path else events_dir / "outbox" / "outbox.sqlite3"
        return OutboxDatabase(sqlite_path=path)


class PostgresOutboxResource(OutboxStoreResource):
    """The production twin: PostgreSQL (the instance's database), tables in `db_schema`."""

    host: str
    port: str = "5432"
    user: str
    password: str = ""
    dbname: str
    db_schema: str = OUTBOX_SCHEMA

    def database(self, events_dir: Path) -> OutboxDatabase:
        params = {"host": self.host, "port": self.port or "5432", "user": self.user}
        params.update(password=self.password, dbname=self.dbname)
        return OutboxDatabase(postgres=params, schema=self.db_schema)
