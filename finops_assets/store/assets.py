"""Store-stage asset: cost_by_business_unit, the Delta table finance and dashboards read."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.day_writer import DayEvent, DayWriter
from finops_assets.domain.reporting import cost_by_business_unit as summarize
from finops_assets.domain.reporting import totals_match
from finops_assets.metadata import money_table
from finops_assets.partitions import SINGLE_RUN, daily_partitions
from finops_assets.resources.lake import LakeResource
from finops_assets.storage import tables
from finops_assets.storage.validation import validate_frame
from finops_assets.store.checks import COST_BY_BUSINESS_UNIT_SCHEMA

KEY = "cost_by_business_unit"
MONEY_COLUMNS = ("x_billed_cost_base", "x_effective_cost_base")


@dg.asset(
    pool=writer_pool("cost_by_business_unit"),
    group_name="store",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"delta", "polars"},
    deps=["allocated_costs"],
    check_specs=[
        dg.AssetCheckSpec(
            "check_report_contract",
            asset=KEY,
            blocking=True,
            partitions_def=daily_partitions,
            description="Typed columns, a base currency code and at least one source row per "
            "report row.",
        ),
        dg.AssetCheckSpec(
            "check_report_matches_allocation",
            asset=KEY,
            blocking=True,
            partitions_def=daily_partitions,
            description="The report's billed and effective totals equal allocated_costs' for "
            "the day, exactly.",
        ),
    ],
)
def cost_by_business_unit(context: AssetExecutionContext, lake: LakeResource) -> Iterator[DayEvent]:
    """Allocated cost per day, provider, business unit, service and charge category (base currency)."""
    delta, base = lake.delta(), lake.currency()
    writer = DayWriter(
        context,
        memo=True,
        memo_stored=lambda day: delta.day_files([tables.ALLOCATED_COSTS], day),
        memo_output=lambda day: delta.day_files([tables.COST_BY_BUSINESS_UNIT], day),
    )

    def one_day(day: dt.date) -> None:
        allocated = delta.read_day(tables.ALLOCATED_COSTS, day)
        report = summarize(allocated)
        writer.commit(
            day,
            {
                "check_report_contract": validate_frame(COST_BY_BUSINESS_UNIT_SCHEMA, report),
                "check_report_matches_allocation": totals_match(allocated, report),
            },
            lambda: delta.write_day(tables.COST_BY_BUSINESS_UNIT, report, day),
            content=[report],
            metadata={
                "rows": report.height,
                "cost_by_business_unit": money_table(
                    report, MONEY_COLUMNS, base, by=["x_business_unit"]
                ),
            },
        )

    yield from writer.run(one_day)
