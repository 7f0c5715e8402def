"""Which days of allocated_costs and of every report after it lag the rules in force.

Dagster's staleness goes one hop: after a rule change only applicable_rules, then
allocated_costs, shows "Unsynced", and only on a selected day. `check_rules_current` makes the
whole chain visible per day: a partitioned asset check on allocated_costs and each report after
it, failed on each day computed with another rule version than the one its effective window
gives now (day_versions.py: a version effective from 10-03 leaves 10-01..10-02 passing), so the
check's partition bar shows those days red and the catalog shows the asset's checks failing.

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

from finops_assets.allocate.day_versions import DayVersions, day_versions
from finops_assets.dagster_private import (
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
    "allocation_preview",
    "pending_adjustments",
)
DESCRIPTION = (
    "Per day: fails while the day was computed with another allocation rule version than the "
    "one its effective window gives under the rules in force. The re-allocation backfill "
    "makes it pass."
)


def day_evaluation(
    key: dg.AssetKey,
    day: str,
    target: AssetCheckEvaluationTargetMaterializationData,
    versions: DayVersions | None,
) -> dg.AssetCheckEvaluation:
    """check_rules_current of one day of `key`: failed when computed with another version."""
    applied = versions.applied(day, target.storage_id) if versions else None
    applicable = versions.applicable(day) if versions else None
    behind = versions.behind(day, target.storage_id) if versions else False
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
            "rules_in_force": versions.rules_version if versions else "none",
            "version_applied": applied or "-",
            "version_applicable": applicable or "-",
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
    failed but that was re-materialized with the version that applies is passed. Nothing else
    is reported again, so re-materializing the same rules reports nothing.
    """
    versions = day_versions(instance)
    if versions is None:
        return []
    events = []
    for key in keys:
        targets = latest_check_targets(instance, key)
        latest = latest_check_results(instance, dg.AssetCheckKey(key, CHECK), list(targets))
        for day, target in targets.items():
            evaluation = day_evaluation(key, day, target, versions)
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
        versions = day_versions(context.instance)
        selected = context.selected_asset_check_keys
        events = [
            day_evaluation(check_key.asset_key, day, target, versions)
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
