"""Re-allocation after a rule change: one backfill of the stale days of allocated_costs.

When `allocation_rules` gets a new data version (new rule version or content), every
materialized partition of `allocated_costs` turns STALE. Staleness travels one hop only, so the
sensor requests those days for `allocated_costs` and everything downstream of it, as one asset
backfill; the assets' single-run backfill policy makes that a few runs, not one per day.

Only stale causes rooted in the rules count. A day that is stale because new upstream data
arrived (a landing run between its normalize and allocate steps) is the landing run's to carry
downstream; requesting it here would race that run for the same day.
"""

import json

import dagster as dg

from finops_assets.dagster_private import (
    AssetGraphSubset,
    AssetKeyPartitionKey,
    BaseAssetGraph,
    StaleCause,
    StaleStatus,
    stale_status_resolver,
)
from finops_assets.settings import sensor_interval_seconds

ALLOCATED = dg.AssetKey("allocated_costs")
RULES = dg.AssetKey("allocation_rules")
# allocated_costs and everything downstream of it (not the rules, not the inputs).
REALLOCATION_SELECTION = dg.AssetSelection.assets(ALLOCATED).downstream()
TRIGGER_TAG = "finops/trigger"
# The assets whose new data version is a policy change that re-allocates history.
REALLOCATION_ROOTS = frozenset({RULES})


def _rooted_in(causes: list[StaleCause], roots: frozenset[dg.AssetKey]) -> bool:
    """Whether any stale cause is a policy asset or a dependency on one."""
    return any(c.asset_key in roots or c.dependency_asset_key in roots for c in causes)


def stale_allocated_partitions(
    instance: dg.DagsterInstance,
    asset_graph: BaseAssetGraph,
    roots: frozenset[dg.AssetKey] | None = REALLOCATION_ROOTS,
) -> list[str]:
    """The materialized days of allocated_costs that are STALE because of `roots`, sorted.

    `roots=None` returns every STALE day, whatever made it stale.
    """
    resolver = stale_status_resolver(instance, asset_graph)
    stale = [
        p
        for p in instance.get_materialized_partitions(ALLOCATED)
        if resolver.get_status(ALLOCATED, p) == StaleStatus.STALE
    ]
    if roots is not None:
        stale = [
            p
            for p in stale
            if _rooted_in(list(resolver.get_stale_root_causes(ALLOCATED, p)), roots)
        ]
    return sorted(stale)


def reallocation_subset(asset_graph: BaseAssetGraph, days: list[str]) -> AssetGraphSubset:
    """The given days of allocated_costs and of every asset downstream of it."""
    keys = REALLOCATION_SELECTION.resolve(asset_graph)
    pairs = {AssetKeyPartitionKey(key, day) for key in keys for day in days}
    return AssetGraphSubset.from_asset_partition_set(pairs, asset_graph)


def _rules_id(instance: dg.DagsterInstance) -> str:
    """Which allocation_rules materialization is the latest (what a request answers)."""
    event = instance.get_latest_materialization_event(RULES)
    return f"{event.run_id}@{event.timestamp}" if event else "none"


def _decode(cursor: str | None) -> tuple[str | None, set[str]]:
    """(rules materialization answered, days requested for it)."""
    if not cursor or not cursor.startswith("{"):  # none yet, or a cursor of an older release
        return None, set()
    state = json.loads(cursor)
    return state.get("rules"), set(state.get("requested", []))


@dg.sensor(
    asset_selection=REALLOCATION_SELECTION,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def reallocation_sensor(
    context: dg.SensorEvaluationContext,
) -> dg.SensorResult | dg.SkipReason:
    """Backfills the days a rule change made stale, and everything downstream, once per change."""
    asset_graph = context.repository_def.asset_graph  # type: ignore[union-attr]
    answered, requested = _decode(context.cursor)
    rules_id = _rules_id(context.instance)
    if rules_id != answered:
        requested = set()
    stale = stale_allocated_partitions(context.instance, asset_graph)
    # Days already requested for these rules are in a backfill: as it writes them one by one
    # the stale set shrinks, which is progress, not a new change.
    days = [d for d in stale if d not in requested]
    cursor = {"rules": rules_id, "requested": sorted(requested | set(days))}
    if days:
        request = dg.RunRequest.for_asset_graph_subset(
            reallocation_subset(asset_graph, days),
            tags={TRIGGER_TAG: "reallocation_sensor"},
        )
        return dg.SensorResult(run_requests=[request], cursor=json.dumps(cursor, sort_keys=True))
    context.update_cursor(json.dumps(cursor, sort_keys=True))
    if stale:
        return dg.SkipReason(f"a backfill of the {len(stale)} stale day(s) was already requested")
    return dg.SkipReason("no day of allocated_costs is stale from a rule change")
