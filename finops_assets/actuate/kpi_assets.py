"""Actuate-stage asset finops_kpis: allocation coverage, latency, savings realization, forecasts."""

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.actuate.checks import FINOPS_KPIS_SCHEMA, KPI_VALUES_SCHEMA
from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain import kpis
from finops_assets.metadata import markdown_table, money_rows
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.validation import validate_frame

# What the KPI tables are computed from (memo inputs); the raw tables only give the latency,
# which is metadata, measured again on every run (a reused day included)
KPI_INPUTS = ("allocated_costs", "budget_status", "rightsizing_recommendations")


def _fetched_at(delta: DeltaLake, day: dt.date) -> dict[str, dt.datetime | None]:
    """Per billing source: when the last export of `day` was fetched (raw x_fetched_at)."""
    result: dict[str, dt.datetime | None] = {}
    for source in BILLING_SOURCES:
        contract = tables.raw_contract(source)
        if delta.exists(contract):
            latest = delta.read_day_columns(contract, day, ["x_fetched_at"])["x_fetched_at"].max()
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


def _latency(
    context: AssetExecutionContext, delta: DeltaLake, day: dt.date
) -> dict[str, dg.MetadataValue]:
    """Pipeline latency of `day` (metadata): each source's last fetch -> allocated_costs[day]'s
    latest record. A day allocated_costs reused is recorded again after the new fetch: the
    latency is how long the pipeline took to confirm the day for that delivery."""
    latency = kpis.pipeline_latency(_fetched_at(delta, day), _allocated_at(context, day))
    return {
        "pipeline_latency": markdown_table(latency),
        "pipeline_latency_max_s": dg.MetadataValue.int(
            max((int(r["latency_s"]) for r in latency), default=0)
        ),
    }


def _read_days(delta: DeltaLake) -> Callable[[dt.date], list[dt.date]]:
    """The days of its upstream assets a KPI day reads (memo_days): the month to date
    (budget_status) and every day from 6 days before the first rightsizing recommendation to
    the day (savings realization). A recommendation gained or lost before that first day
    moves the window, so the day's inputs change with it."""
    recommended: list[dt.date] | None = None

    def days(day: dt.date) -> list[dt.date]:
        nonlocal recommended
        if recommended is None:  # read once per run: the table is one row per recommendation
            found = delta.scan(tables.RIGHTSIZING_RECOMMENDATIONS).select("x_charge_date")
            recommended = sorted(set(found.collect()["x_charge_date"].to_list()))
        first = min([d for d in recommended if d <= day], default=day) - dt.timedelta(days=6)
        month = {day.replace(day=n) for n in range(1, day.day + 1)}
        window = {first + dt.timedelta(days=n) for n in range((day - first).days + 1)}
        return sorted(month | window)

    return days


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
    pool=writer_pool("finops_kpis"),
    group_name="actuate",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    # every table it reads: the raw tables give each export's fetch time (pipeline latency)
    deps=[
        "allocated_costs",
        "budget_status",
        "rightsizing_recommendations",
        *[tables.raw_contract(source).name for source in BILLING_SOURCES],
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "check_kpis_contract",
            asset="finops_kpis",
            blocking=True,
            partitions_def=daily_partitions,
            description="Allocation coverage rows have a known allocation method and a typed "
            "base-currency cost.",
        ),
        dg.AssetCheckSpec(
            "check_kpi_values_contract",
            asset="finops_kpis",
            blocking=True,
            partitions_def=daily_partitions,
            description="Every KPI value names its KPI, scope and unit.",
        ),
    ],
)
def finops_kpis(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """How well FinOps works: allocation coverage, latency, savings realized, forecast accuracy."""
    delta, currency = lake.delta(), lake.currency()
    # memoized (day_memo.py) over the days of the tables it reads; the latency is measured
    # again for a reused day (it is metadata, not in the KPI rows)
    writer = DayWriter(
        context,
        memo=True,
        memo_extra=currency,
        memo_parents=KPI_INPUTS,
        memo_days=_read_days(delta),
        memo_refresh=lambda day: _latency(context, delta, day),
    )

    def one_day(day: dt.date) -> None:
        coverage = kpis.allocation_coverage(delta.read_day(tables.ALLOCATED_COSTS, day))
        latency = _latency(context, delta, day)
        realization, accuracy = _outcomes(delta, day)
        values = kpis.kpi_values(realization, accuracy, day, currency)

        def write() -> None:
            delta.write_day(tables.FINOPS_KPIS, coverage, day)
            delta.write_day(tables.FINOPS_KPI_VALUES, values, day)

        writer.commit(
            day,
            {
                "check_kpis_contract": validate_frame(FINOPS_KPIS_SCHEMA, coverage),
                "check_kpi_values_contract": validate_frame(KPI_VALUES_SCHEMA, values),
            },
            write,
            content=[coverage, values],
            metadata=_metadata(coverage, latency, realization, accuracy, currency),
        )

    yield from writer.run(one_day)


def _metadata(
    coverage: pl.DataFrame,
    latency: dict[str, dg.MetadataValue],
    realization: pl.DataFrame,
    accuracy: pl.DataFrame,
    currency: str,
) -> dict[str, dg.MetadataValue]:
    """UI metadata of one day: each KPI as a table, the unallocated share as a number."""
    unallocated = coverage.filter(pl.col("method") == "unallocated")
    share = unallocated["share"].sum() if unallocated.height else 0
    return {
        "allocation_coverage": money_rows(
            coverage, [c for c in coverage.columns if c != "cost_base"], ["cost_base"], currency
        ),
        # not money: a share for the Plots tab, as a percentage
        "unallocated_share_percent": dg.MetadataValue.float(float(share or 0) * 100),
        **latency,
        "savings_realization": markdown_table(realization),
        "forecast_accuracy_month_end": markdown_table(accuracy),
    }
