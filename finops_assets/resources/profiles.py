"""What the production profile refuses at start: the embedded backends, which keep state on one
machine's disk (a local lake folder, a SQLite outbox, a SQLite Dagster instance).

definitions.py calls `refuse_embedded_backends` when the code location loads, and `finops check`
calls it first, so a production deployment on a local backend stops with one line naming the
setting before any partition is touched. The SQLite outbox is refused by settings.py itself.
"""

from pathlib import Path
from typing import Any

import yaml

from finops_assets.resources.lake import local_lake_refusal
from finops_assets.settings import Settings, SettingsError

# The storages of a Dagster instance; each defaults to SQLite under DAGSTER_HOME when unset.
_STORAGES = ("run_storage", "event_log_storage", "schedule_storage")


def sqlite_instance_storage(dagster_home: Path) -> str | None:
    """Why the instance in `dagster_home` keeps its runs or events in SQLite, or None if not."""
    path = dagster_home / "dagster.yaml"
    if not path.exists():
        return "it has no dagster.yaml, so Dagster keeps runs and events in SQLite"
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    storage = config.get("storage")
    if isinstance(storage, dict) and storage:
        kind = next(iter(storage))
        sqlite = "its dagster.yaml keeps runs and events in SQLite (storage: sqlite)"
        return sqlite if kind == "sqlite" else None
    for name in _STORAGES:
        block = config.get(name)
        if not isinstance(block, dict):
            return f"its dagster.yaml sets no storage nor {name}, so Dagster keeps it in SQLite"
        if "sqlite" in f"{block.get('module', '')}.{block.get('class', '')}".lower():
            return f"its dagster.yaml keeps {name} in SQLite"
    return None


def refuse_embedded_backends(settings: Settings) -> None:
    """In the production profile, a SettingsError naming the setting of the first embedded
    backend: a local lake folder, or a SQLite Dagster instance. The embedded profile refuses
    nothing."""
    if settings.profile != "production":
        return
    if settings.lake_is_local:
        raise SettingsError(local_lake_refusal(settings.lake_uri))
    reason = sqlite_instance_storage(settings.dagster_home)
    if reason is not None:
        raise SettingsError(
            f"DAGSTER_HOME={settings.dagster_home}: {reason}; the production profile "
            "(FINOPS_PROFILE=production) needs the instance in PostgreSQL "
            "(deploy/dagster/dagster.yaml)"
        )
