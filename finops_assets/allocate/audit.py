"""allocation_audit: what each re-allocation moved, per day and business unit."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.domain.audit import audit_conservation_failures, compare_allocations
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import check_result, markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

KEY = "allocation_audit"


def audit_day(delta: DeltaLake, day: dt.date) -> tuple[pl.DataFrame | None, list[dict]]:
    """(audit rows, conservation failures) of one day; (None, []) when it was never allocated."""
    record = delta.read_day(tables.ALLOCATION_VERSIONS, day)
    if record.is_empty():
        return None, []
    row = record.row(0, named=True)
    before_version, after_version = row["x_delta_version_before"], row["x_delta_version_after"]
    before = (
        delta.read_day(tables.ALLOCATED_COSTS, day, version=before_version)
        if before_version is not None
        else tables.ALLOCATED_COSTS.empty_frame()
    )
    after = delta.read_day(tables.ALLOCATED_COSTS, day, version=after_version)
    source = delta.read_day(tables.NORMALIZED_COSTS, day)
    failures = [
        {"day": day.isoformat(), **f} for f in audit_conservation_failures(source, before, after)
    ]
    audit = compare_allocations(before, after, row["x_run_id"], before_version, after_version)
    return audit, failures


@dg.asset(
    group_name="allocate",
    pool=writer_pool("allocation_audit"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[dg.AssetCheckSpec("check_audit_versions_conserved", asset=KEY, blocking=True)],
)
def allocation_audit(context: AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Per re-allocated day and business unit: totals before and after, delta, rule versions.

    Both versions of a day must sum to the day's normalized total; a day that does not is not
    written and the check names it.
    """
    delta = lake.delta()
    failures: list[dict] = []
    summary: list[dict] = []
    for day in partition_days(context):
        audit, day_failures = audit_day(delta, day)
        if audit is None or day_failures:
            failures += day_failures
            continue
        delta.write_day(tables.ALLOCATION_AUDIT, audit, day)
        moved = audit.filter(pl.col("billed_cost_delta") != 0)
        summary.append(
            {
                "day": day.isoformat(),
                "units_changed": moved.height,
                "rule_version_before": audit["rule_version_before"].drop_nulls().first(),
                "rule_version_after": audit["rule_version_after"].first(),
            }
        )
    return dg.MaterializeResult(
        metadata={"days_written": len(summary), "per_day": markdown_table(summary)},
        check_results=[check_result("check_audit_versions_conserved", failures)],
    )
