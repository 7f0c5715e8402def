"""Which allocation rule version each day was computed with, and which applies to it now.

applicable_rules records per charge day the version whose effective window contains it; each
of its materializations carries that version as its data version. A day of allocated_costs
(or of a report after it) was computed with the version applicable_rules held for the day
just before the day's own latest materialization; the version that applies now comes from
the windows the latest allocation_rules materialization reported. The day is behind the
rules when the two differ, so a version effective from 10-03 leaves 10-01..10-02 current.
"""

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import dagster as dg

from finops_assets.dagster_private import DATA_VERSION_TAG
from finops_assets.domain.rule_history import version_for_day

RULES = dg.AssetKey("allocation_rules")
APPLICABLE = dg.AssetKey("applicable_rules")
PAGE = 1000


def rules_version_in_force(instance: dg.DagsterInstance) -> str:
    """The data version of the rule history last materialized ("none": never)."""
    event = instance.get_latest_materialization_event(RULES)
    materialization = event.asset_materialization if event else None
    tags = (materialization.tags or {}) if materialization else {}
    return tags.get(DATA_VERSION_TAG) or "none"


def applicable_versions(instance: dg.DagsterInstance) -> dict[str, list[tuple[int, str]]]:
    """Per day, every (storage id, data version) applicable_rules recorded, oldest first."""
    versions: dict[str, list[tuple[int, str]]] = defaultdict(list)
    cursor = None
    while True:
        result = instance.fetch_materializations(
            APPLICABLE, limit=PAGE, cursor=cursor, ascending=True
        )
        for record in result.records:
            materialization = record.asset_materialization
            if materialization is None or materialization.partition is None:
                continue
            version = (materialization.tags or {}).get(DATA_VERSION_TAG, "")
            versions[materialization.partition].append((record.storage_id, version))
        if not result.has_more:
            return versions
        cursor = result.cursor


def windows_in_force(instance: dg.DagsterInstance) -> list[dict] | None:
    """The version windows the latest allocation_rules materialization reported (None: none)."""
    event = instance.get_latest_materialization_event(RULES)
    materialization = event.asset_materialization if event else None
    entry = (materialization.metadata or {}).get("windows") if materialization else None
    windows = entry.value if entry is not None else None
    return windows if isinstance(windows, list) else None


@dataclass(frozen=True)
class DayVersions:
    """The rule history in force and, per day, the versions applied and applicable."""

    rules_version: str  # the data version of the materialized rule history
    recorded: dict[str, list[tuple[int, str]]]  # applicable_rules' versions per day
    windows: list[dict] | None  # None: the history predates windows (an older release)

    def applicable(self, day: str) -> str | None:
        """The version that applies to `day` under the rule history in force.

        From allocation_rules' windows, so it is known before applicable_rules runs again;
        without windows, the version applicable_rules holds for the day.
        """
        if self.windows is not None:
            return version_for_day(self.windows, dt.date.fromisoformat(day))
        history = self.recorded.get(day)
        return history[-1][1] if history else None

    def applied(self, day: str, storage_id: int) -> str | None:
        """The version applicable_rules held for `day` just before `storage_id` (None: none)."""
        history = self.recorded.get(day, [])
        index = bisect.bisect_left(history, (storage_id, ""))
        return history[index - 1][1] if index else None

    def behind(self, day: str, storage_id: int) -> bool:
        """Whether the materialization `storage_id` of `day` used another version than applies."""
        return self.applied(day, storage_id) != self.applicable(day)


def day_versions(instance: dg.DagsterInstance) -> DayVersions | None:
    """The versions per day as Dagster holds them now (None: rules never materialized)."""
    if instance.get_latest_materialization_event(RULES) is None:
        return None
    return DayVersions(
        rules_version_in_force(instance), applicable_versions(instance), windows_in_force(instance)
    )


def days_behind_rules(
    instance: dg.DagsterInstance, keys: list[dg.AssetKey]
) -> dict[str, list[str]]:
    """Per asset, the materialized days computed with another rule version than applies now."""
    versions = day_versions(instance)
    if versions is None:
        return {}
    behind = {}
    for key in keys:
        latest = instance.get_latest_storage_id_by_partition(
            key, dg.DagsterEventType.ASSET_MATERIALIZATION
        )
        days = sorted(day for day, storage_id in latest.items() if versions.behind(day, storage_id))
        if days:
            behind[key.to_user_string()] = days
    return behind
