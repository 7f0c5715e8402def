"""Allocate-stage assets: allocation_rules (versioned) and allocated_costs."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.allocate.day import AllocatedDayWriter, allocate_day
from finops_assets.concurrency import writer_pool
from finops_assets.domain.allocate_conservation import coverage_shares
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.rules import RulesResource


@dg.asset(group_name="allocate", kinds={"yaml"}, pool=writer_pool("allocation_rules"))
def allocation_rules(rules: RulesResource) -> dg.MaterializeResult:
    """The allocation rules in force; their version plus content hash is the data version."""
    loaded = rules.load()
    return dg.MaterializeResult(
        metadata={
            "rules_version": loaded.version,
            "content_hash": loaded.content_hash,
            "source": rules.describe(),
        },
        data_version=dg.DataVersion(loaded.data_version),
    )


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
def allocated_costs(
    context: AssetExecutionContext, lake: LakeResource, rules: RulesResource
) -> dg.MaterializeResult:
    """Every normalized cost split onto business units by tag, hierarchy, then shared-cost rules."""
    delta, loaded = lake.delta(), rules.load()
    writer = AllocatedDayWriter(delta, context.run_id, loaded.data_version)
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
