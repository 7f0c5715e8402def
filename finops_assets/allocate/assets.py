"""Allocate-stage assets: allocation_rules (versioned) and allocated_costs."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.allocate.checks import allocated_contract_result, conservation_result
from finops_assets.domain.allocate import allocate_costs, allocation_coverage
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.rules import RulesResource
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake


@dg.asset(group_name="allocate", kinds={"yaml"})
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


def _write_allocated_day(
    delta: DeltaLake, allocated: pl.DataFrame, day: dt.date, run_id: str, rule_version: str
) -> int:
    """Replace the day in allocated_costs and record the table versions around the write."""
    before = delta.version(tables.ALLOCATED_COSTS)
    after = delta.write_day(tables.ALLOCATED_COSTS, allocated, day)
    record = pl.DataFrame(
        [
            {
                "x_charge_date": day,
                "x_run_id": run_id,
                "x_rule_version": rule_version,
                "x_delta_version_before": before,
                "x_delta_version_after": after,
            }
        ],
        schema=tables.ALLOCATION_VERSIONS.schema,
    )
    delta.write_day(tables.ALLOCATION_VERSIONS, record, day)
    return after


@dg.asset(
    group_name="allocate",
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
    summary: list[dict] = []
    contract_failures: list[dict] = []
    conservation_failures: list[dict] = []
    coverage: list[pl.DataFrame] = []
    for day in partition_days(context):
        normalized = delta.read_day(tables.NORMALIZED_COSTS, day)
        usage = delta.read_day(tables.K8S_USAGE_RAW, day)
        allocated = allocate_costs(normalized, loaded, usage)
        contract = allocated_contract_result(allocated)
        conserved = conservation_result(normalized, allocated)
        if not (contract.passed and conserved.passed):
            contract_failures += contract.failures
            conservation_failures += conserved.failures
            continue
        version = _write_allocated_day(delta, allocated, day, context.run_id, loaded.data_version)
        coverage.append(allocation_coverage(allocated))
        summary.append(
            {
                "day": day.isoformat(),
                "source_rows": normalized.height,
                "allocated_rows": allocated.height,
                "delta_version": version,
            }
        )
    return dg.MaterializeResult(
        metadata={
            "rules_version": loaded.version,
            "rows": sum(s["allocated_rows"] for s in summary),
            "days_written": len(summary),
            "per_day": markdown_table(summary),
            "coverage": markdown_table(pl.concat(coverage) if coverage else []),
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
