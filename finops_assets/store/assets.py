"""Store-stage asset: cost_by_business_unit, the Delta table finance and dashboards read."""

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.domain.reporting import cost_by_business_unit as summarize
from finops_assets.domain.reporting import totals_match
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import check_result
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame
from finops_assets.store.checks import COST_BY_BUSINESS_UNIT_SCHEMA

KEY = "cost_by_business_unit"


@dg.asset(
    group_name="store",
    pool=writer_pool("cost_by_business_unit"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec("check_report_contract", asset=KEY, blocking=True),
        dg.AssetCheckSpec("check_report_matches_allocation", asset=KEY, blocking=True),
    ],
)
def cost_by_business_unit(context: AssetExecutionContext, lake: LakeResource):
    """Allocated cost per day, provider, business unit, service and charge category (base currency)."""
    delta = lake.delta()
    contract_failures: list[dict] = []
    mismatches: list[dict] = []
    rows = 0
    for day in partition_days(context):
        allocated = delta.read_day(tables.ALLOCATED_COSTS, day)
        report = summarize(allocated)
        outcome = validate_frame(COST_BY_BUSINESS_UNIT_SCHEMA, report)
        day_mismatches = totals_match(allocated, report)
        if day_mismatches or not outcome.passed:
            mismatches += day_mismatches
            contract_failures += outcome.failures
            continue
        delta.write_day(tables.COST_BY_BUSINESS_UNIT, report, day)
        rows += report.height
    return dg.MaterializeResult(
        metadata={"rows": rows},
        check_results=[
            check_result("check_report_contract", contract_failures),
            check_result("check_report_matches_allocation", mismatches),
        ],
    )
