"""Allocate-stage assets: allocation_rules (versioned) and allocated_costs."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from finops_assets.allocate.day import AllocatedDayWriter, allocate_day
from finops_assets.allocate.rules_versions import record_rules, rules_in_force
from finops_assets.concurrency import writer_pool
from finops_assets.domain.allocate_conservation import coverage_shares
from finops_assets.domain.rules import load_rules
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.rules import RulesResource

RULES_KEY = dg.AssetKey("allocation_rules")


@dg.asset(group_name="allocate", kinds={"yaml", "delta"}, pool=writer_pool("allocation_rules"))
def allocation_rules(lake: LakeResource, rules: RulesResource) -> dg.MaterializeResult:
    """The allocation rules in force; their version plus content hash is the data version.

    The parsed, validated rule set is stored in the lake under that data version: it is the
    only copy allocated_costs reads.
    """
    text = rules.file().read_text(encoding="utf-8")
    loaded = load_rules(text)
    table_version = record_rules(lake.delta(), text, loaded)
    return dg.MaterializeResult(
        metadata={
            "rules_version": loaded.version,
            "content_hash": loaded.content_hash,
            "source": rules.describe(),
            "delta_version": table_version,
        },
        data_version=dg.DataVersion(loaded.data_version),
    )


def materialized_rules_version(instance: dg.DagsterInstance) -> str | None:
    """The data version of the latest allocation_rules materialization (None: never)."""
    event = instance.get_latest_materialization_event(RULES_KEY)
    materialization = event.asset_materialization if event else None
    return (materialization.tags or {}).get(DATA_VERSION_TAG) if materialization else None


@dg.asset(
    group_name="allocate",
    pool=writer_pool("allocated_costs"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["normalized_costs", "k8s_usage_raw", allocation_rules],
    check_specs=[
        dg.AssetCheckSpec("check_allocated_contract", asset="allocated_costs", blocking=True),
        dg.AssetCheckSpec("check_allocation_conserved", asset="allocated_costs", blocking=True),
    ],
)
def allocated_costs(context: AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Every normalized cost split onto business units by tag, hierarchy, then shared-cost rules.

    The rules are the version allocation_rules last materialized, read from the lake.
    """
    delta = lake.delta()
    loaded = rules_in_force(delta, materialized_rules_version(context.instance))
    writer = AllocatedDayWriter(delta, context.run.run_id, loaded.data_version)
    results = []
    try:
        for day in partition_days(context):
            results.append(allocate_day(delta, day, loaded, writer))
    finally:
        writer.finish()
    written = [r for r in results if r.passed]
    summary = [
        {
            "day": r.day.isoformat(),
            "source_rows": r.source_rows,
            "allocated_rows": r.allocated_rows,
            "delta_version": r.delta_version,
        }
        for r in written
    ]
    coverage = [c for r in written for c in r.coverage]
    contract_failures = [f for r in results for f in r.contract_failures]
    conservation_failures = [f for r in results for f in r.conservation_failures]
    return dg.MaterializeResult(
        metadata={
            "rules_version": loaded.version,
            "rows": sum(r.allocated_rows for r in written),
            "days_written": len(summary),
            "per_day": markdown_table(summary),
            "coverage": markdown_table(coverage_shares(pl.concat(coverage)) if coverage else []),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="check_allocated_contract",
                passed=not contract_failures,
                metadata={"failures": dg.MetadataValue.json(contract_failures[:20])},
            ),
            dg.AssetCheckResult(
                check_name="check_allocation_conserved",
                passed=not conservation_failures,
                metadata={"failures": dg.MetadataValue.json(conservation_failures[:20])},
            ),
        ],
    )
