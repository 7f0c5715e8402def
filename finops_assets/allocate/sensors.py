"""Re-allocation after a rule change: one backfill of exactly the days whose rules changed.

A new rule history (a new `allocation_rules` data version) makes every materialized day of
`applicable_rules` STALE; the days whose applicable version changes (predicted from the
windows allocation_rules reports, or seen STALE on `allocated_costs` once applicable_rules ran)
are re-allocated. Staleness travels one hop only, so the sensor requests applicable_rules on
its stale days plus those days of `allocated_costs` and everything downstream of it, as one
asset backfill; the single-run backfill policy makes that a few runs, not one per day.

Only stale causes rooted in the rules count. A day that is stale because new upstream data
arrived (a landing run between its normalize and allocate steps) is the landing run's to carry
downstream; requesting it here would race that run for the same day.

A tick answers one rules materialization: when the rules change while it reads the stale days,
it answers nothing and the next tick answers the new rules (else the days would be requested
once for each, in two backfills of the same days).
"""

import json
from collections.abc import Sequence

import dagster as dg

from finops_assets.allocate.day_versions import day_versions
from finops_assets.dagster_private import (
    AssetGraphSubset,
    AssetKeyPartitionKey,
    BaseAssetGraph,
    StaleCause,
    StaleStatus,
    stale_status_resolver,
)
from finops_assets.partitions import REVIEW_GROUP
from finops_assets.settings import sensor_interval_seconds

ALLOCATED = dg.AssetKey("allocated_costs")
RULES = dg.AssetKey("allocation_rules")
APPLICABLE = dg.AssetKey("applicable_rules")
# allocated_costs and everything downstream of it (not the rules, not the inputs).
# The preview is not re-run by a rule change: it is asked for, with a candidate file.
REALLOCATION_SELECTION = dg.AssetSelection.assets(
    ALLOCATED
).downstream() - dg.AssetSelection.groups(REVIEW_GROUP)
# What the sensor may request: those, plus the per-day rule version before them.
SENSOR_SELECTION = REALLOCATION_SELECTION | dg.AssetSelection.assets(APPLICABLE)
TRIGGER_TAG = "finops/trigger"
# The assets whose new data version is a policy change that re-allocates history.
REALLOCATION_ROOTS = frozenset({RULES, APPLICABLE})


def _rooted_in(causes: list[StaleCause], roots: frozenset[dg.AssetKey]) -> bool:
    """Whether any stale cause is a policy asset or a dependency on one."""
    return any(c.asset_key in roots or c.dependency_asset_key in roots for c in causes)


def stale_partitions(
    instance: dg.DagsterInstance,
    asset_graph: BaseAssetGraph,
    key: dg.AssetKey,
    roots: frozenset[dg.AssetKey] | None,
) -> list[str]:
    """The materialized days of `key` that are STALE because of `roots` (None: any), sorted."""
    resolver = stale_status_resolver(instance, asset_graph)
    stale = [
        p
        for p in instance.get_materialized_partitions(key)
        if resolver.get_status(key, p) == StaleStatus.STALE
    ]
    if roots is not None:
        stale = [
            p for p in stale if _rooted_in(list(resolver.get_stale_root_causes(key, p)), roots)
        ]
    return sorted(stale)


def stale_allocated_partitions(
    instance: dg.DagsterInstance,
    asset_graph: BaseAssetGraph,
    roots: frozenset[dg.AssetKey] | None = REALLOCATION_ROOTS,
) -> list[str]:
    """The materialized days of allocated_costs that are STALE because of `roots`, sorted.

    `roots=None` returns every STALE day, whatever made it stale.
    """
    return stale_partitions(instance, asset_graph, ALLOCATED, roots)


def days_changing_version(instance: dg.DagsterInstance, days: list[str]) -> list[str]:
    """Of `days` (applicable_rules not yet re-run), those whose applicable version will change.

    Predicted from the windows allocation_rules reported against the version applicable_rules
    recorded per day, so one backfill carries both steps.
    """
    versions = day_versions(instance)
    if versions is None:
        return []
    return [
        d
        for d in days
        if not versions.recorded.get(d) or versions.applicable(d) != versions.recorded[d][-1][1]
    ]


def reallocation_subset(
    asset_graph: BaseAssetGraph, days: list[str], rules_days: Sequence[str] = ()
) -> AssetGraphSubset:
    """applicable_rules on `rules_days`; allocated_costs and everything after it on `days`."""
    keys = REALLOCATION_SELECTION.resolve(asset_graph)
    pairs = {AssetKeyPartitionKey(key, day) for key in keys for day in days}
    pairs |= {AssetKeyPartitionKey(APPLICABLE, day) for day in rules_days}
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
    asset_selection=SENSOR_SELECTION,
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
    instance = context.instance
    rules_stale = stale_partitions(instance, asset_graph, APPLICABLE, frozenset({RULES}))
    stale = sorted(
        set(stale_allocated_partitions(instance, asset_graph))
        | set(days_changing_version(instance, rules_stale))
    )
    if _rules_id(instance) != rules_id:
        # new rules landed while the stale days were read: they may be stale from either rule
        # set, so this tick answers nothing (cursor kept) and the next one answers the new rules
        return dg.SkipReason(
            "allocation_rules changed during this evaluation; the next tick reads it"
        )
    # Days already requested for these rules are in a backfill: as it writes them one by one
    # the stale set shrinks, which is progress, not a new change.
    days = [d for d in stale if d not in requested]
    rules_days = [d for d in rules_stale if f"rules:{d}" not in requested]
    done = requested | set(days) | {f"rules:{d}" for d in rules_days}
    cursor = json.dumps({"rules": rules_id, "requested": sorted(done)}, sort_keys=True)
    if days or rules_days:
        request = dg.RunRequest.for_asset_graph_subset(
            reallocation_subset(asset_graph, days, rules_days),
            tags={TRIGGER_TAG: "reallocation_sensor"},
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)
    context.update_cursor(cursor)
    if stale or rules_stale:
        return dg.SkipReason(f"a backfill of the {len(stale)} stale day(s) was already requested")
    return dg.SkipReason("no day of allocated_costs is stale from a rule change")
