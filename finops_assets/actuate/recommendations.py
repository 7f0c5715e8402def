"""Actuate-stage recommendation assets: rightsizing and commitment recommendations."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import COMMITMENTS_SCHEMA, RIGHTSIZING_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.commitments import commitment_recommendations as recommend_commitments
from finops_assets.domain.rightsizing import (
    RightsizingPolicy,
    load_instance_catalog,
)
from finops_assets.domain.rightsizing import (
    rightsizing_recommendations as recommend_sizes,
)
from finops_assets.domain.utilization import utilization_for_days
from finops_assets.metadata import money_rows, money_table
from finops_assets.partitions import SINGLE_RUN, daily_partitions
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
    pool=writer_pool("rightsizing_recommendations"),
    group_name="actuate",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_rightsizing_contract",
            asset="rightsizing_recommendations",
            blocking=True,
            partitions_def=daily_partitions,
            description="Each recommendation names a resource, its current and smaller size, "
            "positive monthly savings, CPU p95 within 0-100 and at least one day observed.",
        )
    ],
)
def rightsizing_recommendations(
    context: AssetExecutionContext,
    config: RightsizingConfig,
    lake: LakeResource,
    landing: LandingResource,
) -> Iterator[DayEvent]:
    """Compute resources idle for days, a smaller size each, and the monthly savings."""
    policy = RightsizingPolicy(**config.model_dump())
    catalog = load_instance_catalog(CATALOG_PATH.read_text(encoding="utf-8"))
    delta, archive, folder = lake.delta(), lake.archive(), landing.folder() / SOURCE

    def window_of(day: dt.date) -> list[dt.date]:
        return [day - dt.timedelta(days=n) for n in range(policy.lookback_days)]

    # memoized over the allocated days of its window (day_memo.py); the utilization exports
    # of the window (not an asset: their names, sizes, times), the policy and the instance
    # catalog are inputs too
    writer = DayWriter(
        context,
        memo=True,
        memo_extra=repr((policy, catalog, lake.currency())),
        memo_stored=lambda day: _utilization_files(folder, window_of(day)),
        memo_days=window_of,
    )
    files: dict[dt.date, list[bytes]] = {}

    def one_day(day: dt.date) -> None:
        window = window_of(day)
        for d in window:
            if d not in files:
                files[d] = _archived_utilization(archive, folder, d)
        utilization = utilization_for_days([b for d in window for b in files[d]], window)
        costs = delta.read_days(tables.ALLOCATED_COSTS, window).select(
            "ResourceId", "x_business_unit", "x_effective_cost_base"
        )
        found = recommend_sizes(utilization, costs, catalog, day, policy, lake.currency())
        shown = ["resource_id", "x_business_unit", "current_size", "recommended_size"]
        writer.commit(
            day,
            {"check_rightsizing_contract": validate_frame(RIGHTSIZING_SCHEMA, found)},
            lambda: delta.write_day(tables.RIGHTSIZING_RECOMMENDATIONS, found, day),
            content=[found],
            metadata={
                "recommendations": found.height,
                "estimated_monthly_savings": money_table(
                    found, ["estimated_monthly_savings"], lake.currency()
                ),
                "recommendations_table": money_rows(
                    found, shown, ["estimated_monthly_savings"], lake.currency()
                ),
            },
        )

    yield from writer.run(one_day)


def _utilization_files(folder: Path, days: list[dt.date]) -> str:
    """The utilization exports of `days` as they are now: name, size, modification time."""
    found = []
    for day in sorted(days):
        for path in sorted((folder / day.isoformat()).glob("*.json")):
            stat = path.stat()
            found.append(f"{day}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return ",".join(found)


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
            "check_commitments_contract",
            asset="commitment_recommendations",
            blocking=True,
            partitions_def=daily_partitions,
            description="Each recommendation has positive savings, coverage and utilization "
            "between 0 and 1, and a break-even month of at least 1.",
        )
    ],
)
def commitment_recommendations(
    context: AssetExecutionContext, config: CommitmentConfig, lake: LakeResource
) -> Iterator[DayEvent]:
    """Savings plan, reserved and committed-use amounts worth buying, net of those owned."""
    delta = lake.delta()

    def window_of(day: dt.date) -> list[dt.date]:
        return [day - dt.timedelta(days=n) for n in range(config.lookback_days)]

    # memoized over the normalized days of its lookback window (day_memo.py)
    writer = DayWriter(
        context,
        memo=True,
        memo_extra=repr((config.lookback_days, config.percentile, lake.currency())),
        memo_days=window_of,
    )
    days = writer.days
    first = min(days) - dt.timedelta(days=config.lookback_days - 1)
    history = (
        delta.scan(tables.NORMALIZED_COSTS)
        .filter(pl.col("x_charge_date").is_between(first, max(days)))
        .select(_COMMITMENT_INPUT)
        .collect()
        if delta.exists(tables.NORMALIZED_COSTS)
        else pl.DataFrame(schema={c: tables.NORMALIZED_COSTS.columns[c] for c in _COMMITMENT_INPUT})
    )

    def one_day(day: dt.date) -> None:
        found = recommend_commitments(
            history, day, config.lookback_days, config.percentile, currency=lake.currency()
        )
        shown = ["x_provider", "commitment_type", "term_months", "expected_coverage"]
        amounts = ["hourly_commitment", "estimated_monthly_savings"]
        writer.commit(
            day,
            {"check_commitments_contract": validate_frame(COMMITMENTS_SCHEMA, found)},
            lambda: delta.write_day(tables.COMMITMENT_RECOMMENDATIONS, found, day),
            content=[found],
            metadata={
                "recommendations": found.height,
                "recommendations_table": money_rows(found, shown, amounts, "currency"),
                "no_recommendation_because": (
                    ""
                    if found.height
                    else f"no on-demand baseline over {config.lookback_days} "
                    "days worth committing (or too little history)"
                ),
            },
        )

    yield from writer.run(one_day)
