"""The embedded instance's event log storage (finops_assets/event_log_storage.py), on real SQLite.

One SQLAlchemy engine per shard instead of one per stored event; the same files, records and
file-watch behaviour as Dagster's storage. Engines are counted with a spy on the real
`create_engine` (it still creates every engine).
"""

import threading
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events.log import EventLogEntry

from finops_assets import event_log_storage
from finops_assets.dagster_private import SqliteEventLogStorage
from finops_assets.demo import INSTANCE_YAML
from finops_assets.event_log_storage import CachedEngineSqliteEventLogStorage

EVENTS = 20


def log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None, level=20, user_message=message, run_id=run_id, timestamp=time.time()
    )


def count_engines(monkeypatch: pytest.MonkeyPatch, module: object) -> list[str]:
    made: list[str] = []
    real = module.create_engine  # type: ignore[attr-defined]

    def spy(url: str, **kwargs: object) -> object:
        made.append(str(url))
        return real(url, **kwargs)

    monkeypatch.setattr(module, "create_engine", spy)
    return made


def test_dagster_storage_makes_an_engine_per_event(tmp_path, monkeypatch):
    """What the class exists for: Dagster's own storage creates an engine for every write."""
    import dagster._core.storage.event_log.sqlite.sqlite_event_log as dagster_module

    storage = SqliteEventLogStorage(str(tmp_path))
    made = count_engines(monkeypatch, dagster_module)
    for n in range(EVENTS):
        storage.store_event(log_entry("run-a", f"event {n}"))
    assert len(made) >= EVENTS


def test_one_engine_per_shard_and_the_same_records(tmp_path, monkeypatch):
    made = count_engines(monkeypatch, event_log_storage)
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    for n in range(EVENTS):
        storage.store_event(log_entry("run-a", f"event {n}"))
        storage.store_event(log_entry("run-b", f"event {n}"))
    assert sorted(Path(url).name for url in made) == ["index.db", "run-a.db", "run-b.db"]
    messages = [
        r.event_log_entry.user_message for r in storage.get_records_for_run("run-a").records
    ]
    assert messages == [f"event {n}" for n in range(EVENTS)]
    assert (tmp_path / "history" / "runs" / "run-a.db").exists()
    storage.dispose()


def test_engines_kept_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(event_log_storage, "ENGINES_KEPT", 3)
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    for n in range(6):
        storage.store_event(log_entry(f"run-{n}", "one"))
    assert list(storage._engines) == ["run-3", "run-4", "run-5"]  # noqa: SLF001
    storage.store_event(log_entry("run-0", "again"))  # an evicted shard is opened again
    assert [
        r.event_log_entry.user_message for r in storage.get_records_for_run("run-0").records
    ] == [
        "one",
        "again",
    ]
    storage.dispose()


def test_a_watcher_sees_each_event_as_it_is_stored(tmp_path):
    """The webserver follows a live run by watching the run's .db file: still modified per write."""
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    storage.store_event(log_entry("run-w", "before the watch"))
    seen: list[str] = []
    arrived = threading.Event()

    def callback(entry: EventLogEntry, _cursor: str) -> None:
        seen.append(entry.user_message)
        if entry.user_message == "third":
            arrived.set()

    storage.watch("run-w", None, callback)
    for message in ["first", "second", "third"]:
        storage.store_event(log_entry("run-w", message))
    assert arrived.wait(timeout=30), seen
    assert seen[-3:] == ["first", "second", "third"]
    storage.end_watch("run-w", callback)
    storage.dispose()


def test_the_embedded_instance_uses_it_and_records_a_run(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    assert yaml.safe_load(INSTANCE_YAML)["event_log_storage"]["config"] == {
        "dagster_home": {"env": "DAGSTER_HOME"}
    }
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    @dg.asset
    def tiny() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, CachedEngineSqliteEventLogStorage)
        result = dg.materialize([tiny], instance=instance)
        assert result.success
        assert (home / "history" / "runs" / f"{result.run_id}.db").exists()
        latest = instance.get_latest_materialization_event(dg.AssetKey("tiny"))
        assert latest is not None and latest.run_id == result.run_id
