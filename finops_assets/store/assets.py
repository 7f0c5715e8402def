"""Store-stage asset: cost_by_business_unit, the Delta table finance and dashboards read."""

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.domain.reporting import cost_by_business_unit as summarize
from finops_assets.domain.reporting import totals_match
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables


@dg.asset(
    group_name="store",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_report_matches_allocation", asset="cost_by_business_unit", blocking=True
        )
    ],
)
def cost_by_business_unit(context: AssetExecutionContext, lake: LakeResource):
    """Allocated cost per day, provider, business unit, service and charge category (base currency)."""
    delta = lake.delta()
    mismatches, rows = [], 0
    for day in partition_days(context):
        allocated = delta.read_day(tables.ALLOCATED_COSTS, day)
        report = summarize(allocated)
        day_mismatches = totals_match(allocated, report)
        if day_mismatches:
            mismatches += day_mismatches
            continue
        delta.write_day(tables.COST_BY_BUSINESS_UNIT, report, day)
        rows += report.height
    return dg.MaterializeResult(
        metadata={"rows": rows},
        check_results=[
            dg.AssetCheckResult(
                check_name="check_report_matches_allocation",
                passed=not mismatches,
                metadata={"mismatches": dg.MetadataValue.json(mismatches[:20])},
            )
        ],
    )
