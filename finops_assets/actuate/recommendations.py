"""Actuate-stage recommendation assets: rightsizing and commitment recommendations."""

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import COMMITMENTS_SCHEMA, RIGHTSIZING_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.domain.commitments import commitment_recommendations as recommend_commitments
from finops_assets.domain.rightsizing import (
    RightsizingPolicy,
    load_instance_catalog,
    total_savings,
)
from finops_assets.domain.rightsizing import (
    rightsizing_recommendations as recommend_sizes,
)
from finops_assets.domain.utilization import utilization_for_days
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import check_result, markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.sample.utilization_writer import CATALOG_PATH, SOURCE
from finops_assets.storage import tables
from finops_assets.storage.archive import RawArchive
from finops_assets.storage.validation import validate_frame


class RightsizingConfig(dg.Config):
    """When a resource counts as underused (see domain.rightsizing.RightsizingPolicy)."""

    lookback_days: int = 14
    min_days: int = 7
    cpu_threshold: float = 40.0
    memory_threshold: float = 50.0
    target_percent: float = 70.0


@dg.asset(
    group_name="actuate",
    pool=writer_pool("rightsizing_recommendations"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_rightsizing_contract", asset="rightsizing_recommendations", blocking=True
        )
    ],
)
def rightsizing_recommendations(
    context: AssetExecutionContext,
    config: RightsizingConfig,
    lake: LakeResource,
    landing: LandingResource,
) -> dg.MaterializeResult:
    """Compute resources idle for days, a smaller size each, and the monthly savings."""
    policy = RightsizingPolicy(**config.model_dump())
    catalog = load_instance_catalog(CATALOG_PATH.read_text(encoding="utf-8"))
    delta, archive, folder = lake.delta(), lake.archive(), landing.folder() / SOURCE
    files: dict[dt.date, list[bytes]] = {}
    frames, failures = list[pl.DataFrame](), list[dict]()
    for day in partition_days(context):
        window = [day - dt.timedelta(days=n) for n in range(policy.lookback_days)]
        for d in window:
            if d not in files:
                files[d] = _archived_utilization(archive, folder, d)
        utilization = utilization_for_days([b for d in window for b in files[d]], window)
        costs = delta.read_days(tables.ALLOCATED_COSTS, window).select(
            "ResourceId", "x_business_unit", "x_effective_cost_base"
        )
        found = recommend_sizes(utilization, costs, catalog, day, policy, lake.currency())
        outcome = validate_frame(RIGHTSIZING_SCHEMA, found)
        if not outcome.passed:
            failures += outcome.failures
            continue
        delta.write_day(tables.RIGHTSIZING_RECOMMENDATIONS, found, day)
        frames.append(found)
    latest = frames[-1] if frames else pl.DataFrame()
    return dg.MaterializeResult(
        metadata={
            "recommendations_last_day": latest.height,
            "estimated_monthly_savings_last_day": str(total_savings(latest)) if frames else "0",
            "last_day": markdown_table(
                latest.select(
                    "resource_id", "current_size", "recommended_size", "estimated_monthly_savings"
                )
                if frames
                else []
            ),
        },
        check_results=[check_result("check_rightsizing_contract", failures)],
    )


def _archived_utilization(archive: RawArchive, folder: Path, day: dt.date) -> list[bytes]:
    """A day's utilization exports, archived byte for byte before use (what the sensor checks)."""
    payloads = []
    for path in sorted((folder / day.isoformat()).glob("*.json")):
        data = path.read_bytes()
        archive.store(SOURCE, day, path.name, data)
        payloads.append(data)
    return payloads


class CommitmentConfig(dg.Config):
    """Lookback and percentile of the on-demand baseline (see domain.commitments)."""

    lookback_days: int = 30
    percentile: int = 10


_COMMITMENT_INPUT = (
    "x_charge_date",
    "x_provider",
    "ChargeCategory",
    "ServiceCategory",
    "PricingCategory",
    "CommitmentDiscountId",
    "x_effective_cost_base",
)


@dg.asset(
    group_name="actuate",
    pool=writer_pool("commitment_recommendations"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["normalized_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_commitments_contract", asset="commitment_recommendations", blocking=True
        )
    ],
)
def commitment_recommendations(
    context: AssetExecutionContext, config: CommitmentConfig, lake: LakeResource
) -> dg.MaterializeResult:
    """Savings plan, reserved and committed-use amounts worth buying, net of those owned."""
    delta, days = lake.delta(), partition_days(context)
    first = min(days) - dt.timedelta(days=config.lookback_days - 1)
    history = (
        delta.scan(tables.NORMALIZED_COSTS)
        .filter(pl.col("x_charge_date").is_between(first, max(days)))
        .select(_COMMITMENT_INPUT)
        .collect()
        if delta.exists(tables.NORMALIZED_COSTS)
        else pl.DataFrame(schema={c: tables.NORMALIZED_COSTS.columns[c] for c in _COMMITMENT_INPUT})
    )
    frames, failures = list[pl.DataFrame](), list[dict]()
    for day in days:
        found = recommend_commitments(
            history, day, config.lookback_days, config.percentile, currency=lake.currency()
        )
        outcome = validate_frame(COMMITMENTS_SCHEMA, found)
        if not outcome.passed:
            failures += outcome.failures
            continue
        delta.write_day(tables.COMMITMENT_RECOMMENDATIONS, found, day)
        frames.append(found)
    latest = frames[-1] if frames else pl.DataFrame()
    shown = ["x_provider", "commitment_type", "term_months", "hourly_commitment"]
    shown += ["expected_coverage", "estimated_monthly_savings", "break_even_month"]
    return dg.MaterializeResult(
        metadata={
            "recommendations_last_day": latest.height,
            "last_day": markdown_table(latest.select(shown) if frames else []),
        },
        check_results=[check_result("check_commitments_contract", failures)],
    )
