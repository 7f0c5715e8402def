"""Dagster's SQLite event log, minus a new SQLAlchemy engine for every event (the embedded default).

Dagster's `SqliteEventLogStorage` creates an engine, connects, commits, closes and disposes the
engine for every event it stores (and again for the cross-run index of every asset and check
event). A ranged run of the whole graph over 31 days stores thousands of events (a planned
materialization, a materialization and the check evaluations per asset and day), so the engine
setup alone cost about 3 ms of CPU per write here (finops_assets_tests/test_event_log_storage.py
and README "Performance"). `CachedEngineSqliteEventLogStorage` keeps one engine per shard (the
last `ENGINES_KEPT` shards used) and, like Dagster's, opens and closes a connection per write:
a write still ends with the connection closed, so the run's `.db` file is checkpointed as before
and the webserver's file watcher (which watches that file) still sees each event. Everything
else (schema, files, WAL mode, locking) is Dagster's.

The storage's directory is `<dagster_home>/history/runs`, where Dagster's default keeps it, so an
existing FINOPS_HOME keeps its run history. Dagster's private names come from
finops_assets.dagster_private (pinned by a test).
"""

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from finops_assets.dagster_private import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage

ENGINES_KEPT = 16  # run shards touched recently, plus the index shard


class CachedEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log storage with one SQLAlchemy engine per shard, not per write."""

    def __init__(self, dagster_home: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._dagster_home = dagster_home
        super().__init__(str(Path(dagster_home) / "history" / "runs"), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"dagster_home": dg.StringSource}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: dict
    ) -> "CachedEngineSqliteEventLogStorage":
        return cls(config_value["dagster_home"], inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine (NullPool: a connection is opened and closed per use, as before)."""
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            while len(self._engines) > ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """Dagster's `_connect` (one transaction on a fresh connection), on the cached engine."""
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        """Dispose the cached engines, then what Dagster's storage holds (its file watcher)."""
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()
