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

Where the files go: the embedded dagster.yaml names `EmbeddedInstance` as its `instance_class`
and sets no storage. Dagster then asks the instance class for its defaults with the directory
being opened (`InstanceRef.from_dir(base_dir)` -> `config_defaults(base_dir)`), exactly as it
does for its own default SQLite storage; ours differ only in the event log's class. So the
storage lands under `<that directory>/history/runs` whether DAGSTER_HOME is set or not
(`DagsterInstance.from_config(dir)`, `dagster` commands, the run worker given the instance's
ref), a copied home writes to itself, and an existing FINOPS_HOME keeps its run history.
Dagster's private names come from finops_assets.dagster_private (pinned by a test).
"""

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
import yaml
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from finops_assets.dagster_private import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    ConfigurableClassData,
    DagsterSqliteStorage,
    InstanceRef,
    SqliteEventLogStorage,
    SqliteRunStorage,
    SqliteScheduleStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)

ENGINES_KEPT = 16  # run shards touched recently, plus the index shard


class CachedEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log storage with one SQLAlchemy engine per shard, not per write."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: dict
    ) -> "CachedEngineSqliteEventLogStorage":
        """Built from `{base_dir: ...}`, the config Dagster's SQLite event log takes."""
        return cls(config_value["base_dir"], inst_data=inst_data)

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

    def has_table(self, table_name: str) -> bool:
        """Dagster's `has_table` on the index shard's cached engine (it is asked for every asset
        event with tags, inside the index transaction, so it must not take `_db_lock`)."""
        engine = self._engines.get(INDEX_SHARD_NAME)
        if engine is None:  # not cached yet (or evicted): Dagster's way, a throwaway engine
            return super().has_table(table_name)
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))

    def dispose(self) -> None:
        """Dispose the cached engines, then what Dagster's storage holds (its file watcher)."""
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()


class CachedEngineSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (same directories), its event log the cached-engine one."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        # DagsterSqliteStorage.__init__ would open a stock event log first; this builds the same
        # three storages, only the event log's class differs.
        self.base_dir = base_dir
        self._run_storage = SqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = CachedEngineSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: dict
    ) -> "CachedEngineSqliteStorage":
        """Built from `{base_dir: ...}`, the config Dagster's SQLite storage takes."""
        return cls.from_local(config_value["base_dir"], inst_data=inst_data)


class EmbeddedInstance(dg.DagsterInstance):
    """The embedded default's instance: Dagster's, with the cached-engine SQLite storage as the
    default storage of whatever directory it is opened from. It takes no config of its own."""

    @classmethod
    def config_schema(cls) -> dict:
        """No keys of its own (Dagster merges this into the instance's config schema)."""
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        """Dagster's defaults for `base_dir`, the storage and event log swapped for ours."""
        defaults = dict(InstanceRef.config_defaults(base_dir))
        defaults["storage"] = ConfigurableClassData(
            __name__, CachedEngineSqliteStorage.__name__, yaml.dump({"base_dir": base_dir})
        )
        defaults["event_log_storage"] = ConfigurableClassData(
            __name__,
            CachedEngineSqliteEventLogStorage.__name__,
            yaml.dump({"base_dir": _event_logs_directory(base_dir)}),
        )
        return defaults
