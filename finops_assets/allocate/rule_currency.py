"""Which days of allocated_costs and of every report after it predate the rules in force.

Dagster's staleness goes one hop: after a rule change only allocated_costs shows "Unsynced",
and only on a selected day. `check_rules_current` makes the whole chain visible: an asset check on
allocated_costs and each report after it, failed while any of its days was last materialized
before the current rule set took effect (the days are in its metadata), so the catalog, the
asset pages and the lineage show every report that still needs the re-allocation. The
reallocation sensor reports it without a run whenever an asset's days behind change; a run of
the asset evaluates it again at its end.
"""

import dagster as dg

from finops_assets.dagster_private import DATA_VERSION_TAG

CHECK = "check_rules_current"
RULES = dg.AssetKey("allocation_rules")
# allocated_costs and the assets after it (test_rule_currency pins this to the graph).
FOLLOWERS = (
    "allocated_costs",
    "allocation_audit",
    "cost_by_business_unit",
    "budget_status",
    "budget_events",
    "finops_kpis",
    "rightsizing_recommendations",
    "cost_anomalies",
    "finops_report",
    "focus_cost_allocation",
)
DESCRIPTION = (
    "Fails while days of this asset were computed with an older allocation rule set than the "
    "one in force (last materialized before the current allocation_rules version; the days "
    "are in the metadata). The re-allocation backfill makes it pass."
)


def rules_effective_since(instance: dg.DagsterInstance) -> tuple[int, str] | None:
    """(storage id, data version) of the materialization that put the current rules in force.

    Re-materializing the same rules again changes nothing: it is the first materialization of
    the current data version that counts. None when the rules were never materialized.
    """
    records = instance.fetch_materializations(RULES, limit=100).records
    if not records:
        return None

    def version(record) -> str | None:
        materialization = record.asset_materialization
        return (materialization.tags or {}).get(DATA_VERSION_TAG) if materialization else None

    current = version(records[0])
    since = records[0]
    for record in records[1:]:
        if version(record) != current:
            break
        since = record
    return since.storage_id, current or ""


def days_behind_rules(
    instance: dg.DagsterInstance, keys: list[dg.AssetKey]
) -> dict[str, list[str]]:
    """Per asset, the materialized days whose latest materialization predates the rules."""
    effective = rules_effective_since(instance)
    if effective is None:
        return {}
    since, _ = effective
    behind = {}
    for key in keys:
        latest = instance.get_latest_storage_id_by_partition(
            key, dg.DagsterEventType.ASSET_MATERIALIZATION
        )
        days = sorted(day for day, storage_id in latest.items() if storage_id < since)
        if days:
            behind[key.to_user_string()] = days
    return behind


def rule_currency_events(
    previous: dict[str, list[str]], current: dict[str, list[str]], rules_version: str
) -> list[dg.AssetCheckEvaluation]:
    """Check results for the assets whose days behind the rules changed since the last tick."""
    return [
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(asset),
            check_name=CHECK,
            passed=not current.get(asset),
            metadata=_metadata(current.get(asset, []), rules_version),
        )
        for asset in sorted(set(previous) | set(current))
        if previous.get(asset) != current.get(asset)
    ]


def _metadata(days: list[str], rules_version: str) -> dict:
    return {
        "rules_in_force": rules_version,
        "days_behind": len(days),
        "first_day_behind": days[0] if days else "-",
        "last_day_behind": days[-1] if days else "-",
        "days": dg.MetadataValue.json(days[:400]),
    }


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(CHECK, asset=asset, description=DESCRIPTION, blocking=False)
        for asset in FOLLOWERS
    ],
    can_subset=True,
)
def check_rules_current(context: dg.AssetCheckExecutionContext):
    """check_rules_current of each selected asset: its days computed before the rules in force."""
    keys = [check_key.asset_key for check_key in context.selected_asset_check_keys]
    behind = days_behind_rules(context.instance, keys)
    effective = rules_effective_since(context.instance)
    for key in keys:
        days = behind.get(key.to_user_string(), [])
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK,
            passed=not days,
            metadata=_metadata(days, effective[1] if effective else "none"),
        )
