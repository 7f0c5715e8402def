"""Which days of allocated_costs and of every report after it predate the rules in force.

Dagster's staleness goes one hop: after a rule change only allocated_costs shows "Unsynced",
and only on a selected day. `check_rules_current` makes the whole chain visible per day: a
partitioned asset check on allocated_costs and each report after it, failed on each day last
materialized before the current rule set took effect, so the check's partition bar shows
those days red and the catalog shows the asset's checks failing.

Its results are reported per day, always from a run:
- the run that materializes new rules fails every day it left behind (`rule_currency_events`);
- a run that selects the check (the re-allocation backfill, a landing run) evaluates the days
  of its partition range at its end, one result per day, so the days it re-allocated pass.

What Dagster 1.13.27 cannot do, and why it is done this way:
- `AssetCheckResult` has no partition: inside a ranged (single-run backfill) run it reports
  one unpartitioned result and leaves every planned day "in progress", then "skipped". So
  the check yields one `AssetCheckEvaluation` per day, naming its partition and the
  materialization it judged (without that target, Dagster never shows a day's result).
- A sensor cannot report them: runless results all carry run id "", and the check executions
  table is unique on (asset, check, run id, partition), so the second runless result for a
  day (the next rule change) fails with an IntegrityError.
- The asset's own partition bar shows materializations only; check results per day show on
  the check's partition bar (asset page, Checks tab, Partitions).
"""

from collections.abc import Iterator, Sequence

import dagster as dg

from finops_assets.dagster_private import (
    DATA_VERSION_TAG,
    AssetCheckEvaluationTargetMaterializationData,
    latest_check_results,
    latest_check_targets,
)
from finops_assets.partitions import daily_partitions

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
    "Per day: fails while the day was computed with an older allocation rule set than the one "
    "in force (last materialized before the current allocation_rules version). The "
    "re-allocation backfill makes it pass."
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


def day_evaluation(
    key: dg.AssetKey,
    day: str,
    target: AssetCheckEvaluationTargetMaterializationData,
    effective: tuple[int, str] | None,
) -> dg.AssetCheckEvaluation:
    """check_rules_current of one day of `key`: failed when the day predates the rules."""
    since, rules_version = effective if effective else (0, "none")
    behind = target.storage_id < since
    return dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=CHECK,
        passed=not behind,
        partition=day,
        target_materialization_data=target,
        description=DESCRIPTION,
        blocking=False,
        metadata={
            "day": day,
            "rules_in_force": rules_version,
            "behind_rules": behind,
            "materialized_by_run": target.run_id,
        },
    )


def _failures_last(events: list[dg.AssetCheckEvaluation]) -> list[dg.AssetCheckEvaluation]:
    # The catalog shows a check's latest result over all days: a day behind must come last.
    return sorted(
        events, key=lambda e: (not e.passed, e.asset_key.to_user_string(), e.partition or "")
    )


def rule_currency_events(
    instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]
) -> list[dg.AssetCheckEvaluation]:
    """Per day, the results that differ from what Dagster holds now (a run reports them).

    A day behind the rules that does not show failed is failed; a day whose latest result
    failed but that was re-materialized with the rules in force is passed. Nothing else is
    reported again, so re-materializing the same rules reports nothing.
    """
    effective = rules_effective_since(instance)
    if effective is None:
        return []
    events = []
    for key in keys:
        targets = latest_check_targets(instance, key)
        latest = latest_check_results(instance, dg.AssetCheckKey(key, CHECK), list(targets))
        for day, target in targets.items():
            evaluation = day_evaluation(key, day, target, effective)
            passed, shown = latest.get(day, (None, False))
            if evaluation.passed is False and (passed is not False or not shown):
                events.append(evaluation)  # behind the rules, not shown failed
            elif evaluation.passed and passed is False:
                events.append(evaluation)  # caught up since it failed
    return _failures_last(events)


def rule_currency_check(followers: Sequence[str]) -> dg.AssetChecksDefinition:
    """check_rules_current on each of `followers`, one result per day of the run."""

    @dg.multi_asset_check(
        name=CHECK,
        specs=[
            dg.AssetCheckSpec(
                CHECK,
                asset=asset,
                description=DESCRIPTION,
                blocking=False,
                partitions_def=daily_partitions,
            )
            for asset in followers
        ],
        can_subset=True,
    )
    def check(
        context: dg.AssetCheckExecutionContext,
    ) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
        """check_rules_current of each selected asset, per day of the run (no range: all days).

        Days outside the run that are still behind are failed again after them: the catalog
        shows a check's latest result over all days, which must not turn green while any day
        of the asset is behind the rules.
        """
        ranged = context.has_partition_key or context.has_partition_key_range
        days = set(context.partition_keys) if ranged else None
        effective = rules_effective_since(context.instance)
        selected = context.selected_asset_check_keys
        events = [
            day_evaluation(check_key.asset_key, day, target, effective)
            for check_key in selected
            for day, target in latest_check_targets(context.instance, check_key.asset_key).items()
        ]
        events = [e for e in events if days is None or e.partition in days or not e.passed]
        yield from _failures_last(events)
        by_output = context.op_execution_context.assets_def.check_specs_by_output_name
        for output_name, spec in by_output.items():
            if spec.key in selected:
                yield dg.Output(None, output_name=output_name)

    return check


check_rules_current = rule_currency_check(FOLLOWERS)
