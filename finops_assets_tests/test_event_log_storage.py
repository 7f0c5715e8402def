"""The embedded instance's event log storage (finops_assets/event_log_storage.py), on real SQLite.

One SQLAlchemy engine per shard instead of one per stored event; the same files, records and
file-watch behaviour as Dagster's storage. Engines are counted with a spy on the real
`create_engine` (it still creates every engine).
"""

import shutil
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry

from finops_assets import event_log_storage
from finops_assets.dagster_private import SqliteEventLogStorage
from finops_assets.demo import INSTANCE_YAML
from finops_assets.event_log_storage import CachedEngineSqliteEventLogStorage, EmbeddedInstance

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
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path / "history" / "runs"))
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
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path / "history" / "runs"))
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
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path / "history" / "runs"))
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


def embedded_home(path: Path, instance_yaml: str = INSTANCE_YAML) -> Path:
    path.mkdir(parents=True)
    (path / "dagster.yaml").write_text(instance_yaml, encoding="utf-8")
    return path


@dg.asset
def tiny() -> int:
    return 1


def test_the_embedded_instance_opens_by_path_without_dagster_home(tmp_path, monkeypatch):
    """`DagsterInstance.from_config(dir)` (chaos harness, instance-health tests, `dagster` commands
    run against the folder) works with DAGSTER_HOME unset, and the run lands in that folder."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = embedded_home(tmp_path / "dagster")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance, EmbeddedInstance)
        assert isinstance(instance.event_log_storage, CachedEngineSqliteEventLogStorage)
        result = dg.materialize([tiny], instance=instance)
        assert result.success
        assert (home / "history" / "runs" / f"{result.run_id}.db").exists()
        assert instance.get_run_by_id(result.run_id) is not None
        latest = instance.get_latest_materialization_event(dg.AssetKey("tiny"))
        assert latest is not None and latest.run_id == result.run_id
        ref = instance.get_ref()  # what a run worker is given: the same folder, our storage
    with dg.DagsterInstance.from_ref(ref) as worker:
        assert isinstance(worker.event_log_storage, CachedEngineSqliteEventLogStorage)
        assert worker.get_run_by_id(result.run_id) is not None


def test_a_copied_home_writes_to_itself(tmp_path, monkeypatch):
    """The folder comes from where the instance is opened, not from DAGSTER_HOME nor a literal
    path: a copy of a home (DAGSTER_HOME pointing at the original) records into the copy."""
    original = embedded_home(tmp_path / "original")
    monkeypatch.setenv("DAGSTER_HOME", str(original))
    with dg.DagsterInstance.from_config(str(original)) as instance:
        first = dg.materialize([tiny], instance=instance).run_id
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    with dg.DagsterInstance.from_config(str(copy)) as instance:
        second = dg.materialize([tiny], instance=instance).run_id
        assert instance.get_run_by_id(first) is not None  # the copied history is read
    assert (copy / "history" / "runs" / f"{second}.db").exists()
    assert not (original / "history" / "runs" / f"{second}.db").exists()


STOCK_YAML = "telemetry:\n  enabled: false\n"  # Dagster's own default SQLite storage


@pytest.mark.parametrize(("instance_yaml", "cached"), [(INSTANCE_YAML, True), (STOCK_YAML, False)])
def test_a_run_on_the_embedded_instance_makes_one_engine_per_shard(
    tmp_path, monkeypatch, instance_yaml, cached
):
    """A real run's events (about 20 stored, several mirrored in the index) on the embedded
    instance create one engine per shard; Dagster's stock storage (the second case, kept to show
    that this count can fail) creates one per write."""
    import dagster._core.storage.event_log.sqlite.sqlite_event_log as dagster_module

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = embedded_home(tmp_path / "dagster", instance_yaml)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        made = count_engines(monkeypatch, dagster_module)
        ours = count_engines(monkeypatch, event_log_storage)
        result = dg.materialize([tiny], instance=instance)
        assert result.success
        stored = len(instance.get_records_for_run(result.run_id).records)
    engines = len(made) + len(ours)
    assert stored >= 10
    if cached:
        # the index shard's engine was made when the instance opened, before the count
        assert made == []
        assert [Path(url).name for url in ours] == [f"{result.run_id}.db"]
    else:
        assert engines >= stored
