"""Actuate-stage asset finops_kpis: allocation coverage, latency, savings realization, forecasts."""

import datetime as dt

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import FINOPS_KPIS_SCHEMA, KPI_VALUES_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.domain import kpis
from finops_assets.ingest.assets import SINGLE_RUN
from finops_assets.metadata import check_result, markdown_table
from finops_assets.partitions import daily_partitions, partition_days
from finops_assets.resources.lake import LakeResource
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.validation import validate_frame


def _fetched_at(delta: DeltaLake, day: dt.date) -> dict[str, dt.datetime | None]:
    """Per billing source: when the last export of `day` was fetched (raw x_fetched_at)."""
    result: dict[str, dt.datetime | None] = {}
    for source in BILLING_SOURCES:
        contract = tables.raw_contract(source)
        if delta.exists(contract):
            latest = delta.read_day(contract, day)["x_fetched_at"].max()
            result[source.SOURCE] = latest if isinstance(latest, dt.datetime) else None
    return result


def _allocated_at(context: AssetExecutionContext, day: dt.date) -> dt.datetime:
    """When allocated_costs[day] was last materialized (now, if the instance has no record)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("allocated_costs"), asset_partitions=[day.isoformat()]
        ),
        limit=1,
    ).records
    stamp = records[0].timestamp if records else dt.datetime.now(dt.UTC).timestamp()
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


def _outcomes(delta: DeltaLake, day: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(savings realization, forecast accuracy) as of `day`."""
    realization = pl.DataFrame(schema=kpis.REALIZATION_COLUMNS)
    if delta.exists(tables.RIGHTSIZING_RECOMMENDATIONS):
        recommended = (
            delta.scan(tables.RIGHTSIZING_RECOMMENDATIONS)
            .filter(pl.col("x_charge_date") <= day)
            .collect()
        )
        first = min(recommended["x_charge_date"].to_list(), default=day) - dt.timedelta(days=6)
        window = [first + dt.timedelta(days=n) for n in range((day - first).days + 1)]
        costs = delta.read_days(tables.ALLOCATED_COSTS, window).select(
            "x_charge_date", "ResourceId", "x_effective_cost_base"
        )
        realization = kpis.savings_realization(recommended, costs, day)
    month = [day.replace(day=n) for n in range(1, day.day + 1)]
    status = delta.read_days(tables.BUDGET_STATUS, month)
    return realization, kpis.forecast_accuracy(status, day)


@dg.asset(
    group_name="actuate",
    pool=writer_pool("finops_kpis"),
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs", "budget_status", "rightsizing_recommendations"],
    check_specs=[
        dg.AssetCheckSpec("check_kpis_contract", asset="finops_kpis", blocking=True),
        dg.AssetCheckSpec("check_kpi_values_contract", asset="finops_kpis", blocking=True),
    ],
)
def finops_kpis(context: AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """How well FinOps works: allocation coverage, latency, savings realized, forecast accuracy."""
    delta, currency = lake.delta(), lake.currency()
    coverage_frames, failures, value_failures = list[pl.DataFrame](), list[dict](), list[dict]()
    latency, realization, accuracy = [], pl.DataFrame(), pl.DataFrame()
    for day in partition_days(context):
        coverage = kpis.allocation_coverage(delta.read_day(tables.ALLOCATED_COSTS, day))
        outcome = validate_frame(FINOPS_KPIS_SCHEMA, coverage)
        if not outcome.passed:
            failures += outcome.failures
            continue
        delta.write_day(tables.FINOPS_KPIS, coverage, day)
        coverage_frames.append(coverage)
        available = _allocated_at(context, day)
        latency += [
            {"day": str(day), **r}
            for r in kpis.pipeline_latency(_fetched_at(delta, day), available)
        ]
        realization, accuracy = _outcomes(delta, day)
        values = kpis.kpi_values(realization, accuracy, day, currency)
        checked = validate_frame(KPI_VALUES_SCHEMA, values)
        if not checked.passed:
            value_failures += checked.failures
            continue
        delta.write_day(tables.FINOPS_KPI_VALUES, values, day)
    return dg.MaterializeResult(
        metadata=_metadata(coverage_frames, latency, realization, accuracy),
        check_results=[
            check_result("check_kpis_contract", failures),
            check_result("check_kpi_values_contract", value_failures),
        ],
    )


def _metadata(
    coverage_frames: list[pl.DataFrame],
    latency: list[dict],
    realization: pl.DataFrame,
    accuracy: pl.DataFrame,
) -> dict[str, dg.MetadataValue]:
    """UI metadata: tables of each KPI and a chart of the unallocated share over the run's days."""
    coverage = pl.concat(coverage_frames) if coverage_frames else pl.DataFrame()
    chart = "_none_"
    if coverage.height:
        unallocated = coverage.filter(pl.col("method") == "unallocated").sort("x_charge_date")
        shares = [float(s or 0) * 100 for s in unallocated["share"]]  # not money: % for the chart
        chart = (
            f"Unallocated share of cost, {unallocated['x_charge_date'][0]} .. "
            f"{unallocated['x_charge_date'][-1]}: `{kpis.sparkline(shares)}` "
            f"(min {min(shares):.2f} %, max {max(shares):.2f} %)"
        )
    last = coverage_frames[-1] if coverage_frames else pl.DataFrame()
    return {
        "allocation_coverage_last_day": markdown_table(last),
        "unallocated_share_chart": dg.MetadataValue.md(chart),
        "pipeline_latency": markdown_table(latency),
        "pipeline_latency_max_s": dg.MetadataValue.int(
            max((int(r["latency_s"]) for r in latency), default=0)
        ),
        "savings_realization": markdown_table(realization),
        "forecast_accuracy_month_end": markdown_table(accuracy),
    }
