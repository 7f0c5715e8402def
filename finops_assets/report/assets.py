"""Report-stage asset finops_report: the month's FinOps dashboard and showback files by the lake.

Daily-partitioned like everything upstream, so a re-allocated day makes its month's report stale
and the demo's one ranged run includes it; each run rewrites the report of every month its days
touch, from the lake as it stands (so the same lake always gives the same files).
"""

import datetime as dt
import io
from typing import Any

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from finops_assets.concurrency import writer_pool
from finops_assets.domain import report
from finops_assets.domain.fx import minor_units
from finops_assets.domain.report_format import format_money
from finops_assets.metadata import markdown_table
from finops_assets.partitions import SINGLE_RUN, daily_partitions, partition_days
from finops_assets.report.inputs import ReportInputs
from finops_assets.report.page import render_report_html
from finops_assets.report.publish import ReportFolder
from finops_assets.resources.budgets import BudgetsResource
from finops_assets.resources.lake import LakeResource
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake

_NORMALIZED = (
    "x_provider",
    "ChargeCategory",
    "ServiceCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "x_effective_cost_base",
)
_UPSTREAM = [
    "allocated_costs",
    "normalized_costs",
    "budget_status",
    "cost_anomalies",
    "rightsizing_recommendations",
    "commitment_recommendations",
    "finops_kpis",
    *[f"{source.SOURCE}_raw" for source in BILLING_SOURCES],
]


def _month(delta: DeltaLake, contract: TableContract, month: dt.date, columns=None) -> pl.DataFrame:
    """A table's rows of one billing month (empty, with the contract's columns, if no table)."""
    if not delta.exists(contract):
        frame = pl.DataFrame(schema=contract.columns)
        return frame.select(columns) if columns else frame
    scan = delta.scan(contract).filter(
        pl.col("x_charge_date").is_between(month, report.month_end(month))
    )
    return (scan.select(columns) if columns else scan).collect()


class MonthWithoutCost(Exception):
    """The month has no allocated cost row: there is nothing to report (and nothing is written)."""


MONTH_FILES = ("finops_report.html", "showback.csv", "showback.parquet")


def month_inputs(
    delta: DeltaLake, month: dt.date, currency: str, thresholds: dict[str, tuple[int, ...]]
) -> ReportInputs:
    """Everything one month's report shows, read from the lake; refuses a month with no cost."""
    allocated = _month(delta, tables.ALLOCATED_COSTS, month, report.REPORT_COLUMNS)
    if allocated.is_empty():
        raise MonthWithoutCost(
            f"allocated_costs has no row in {month:%Y-%m} (no cost, or every cost row was "
            "quarantined: see the quarantine table): no report written for it"
        )
    last = _month(
        delta, tables.ALLOCATED_COSTS, report.previous_month(month), report.REPORT_COLUMNS
    )
    currencies = {currency} | set(_month(delta, tables.COST_ANOMALIES, month)["BillingCurrency"])
    raw = {
        source.SOURCE: _month(
            delta, tables.raw_contract(source), month, ["x_charge_date", "x_fetched_at"]
        )
        for source in BILLING_SOURCES
    }
    return ReportInputs(
        month=month,
        as_of=allocated["x_charge_date"].max(),  # type: ignore[arg-type]
        currency=currency,
        minor_units=minor_units(currency),
        allocated=allocated,
        allocated_last_month=last,
        normalized=_month(delta, tables.NORMALIZED_COSTS, month, _NORMALIZED),
        budget_status=_month(delta, tables.BUDGET_STATUS, month),
        thresholds=thresholds,
        anomalies=_month(delta, tables.COST_ANOMALIES, month),
        rightsizing=_month(delta, tables.RIGHTSIZING_RECOMMENDATIONS, month),
        commitments=_month(delta, tables.COMMITMENT_RECOMMENDATIONS, month),
        raw_days=raw,
        quarantine=_month(delta, tables.QUARANTINE, month, ["x_charge_date", "x_source"]),
        minor_units_of={c: minor_units(c) for c in currencies if c},
    )


def write_month(folder: ReportFolder, inputs: ReportInputs) -> dict[str, str]:
    """Write the month's dashboard and showback (CSV and Parquet); returns name -> location."""
    prefix = f"{inputs.month:%Y-%m}"
    showback = report.showback(inputs.allocated, inputs.minor_units)
    parquet = io.BytesIO()
    showback.write_parquet(parquet)
    return {
        "report": folder.write(f"{prefix}/finops_report.html", render_report_html(inputs).encode()),
        "showback_csv": folder.write(f"{prefix}/showback.csv", showback.write_csv().encode()),
        "showback_parquet": folder.write(f"{prefix}/showback.parquet", parquet.getvalue()),
    }


@dg.asset(
    group_name="report",
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    kinds={"html", "plotly", "parquet"},
    deps=_UPSTREAM,
    pool=writer_pool("finops_report"),  # one writer of a month's files at a time
)
def finops_report(
    context: AssetExecutionContext, lake: LakeResource, budgets: BudgetsResource
) -> dg.MaterializeResult:
    """The month's FinOps dashboard (self-contained HTML) and showback files, beside the lake."""
    delta, currency = lake.delta(), lake.currency()
    thresholds = {b.id: b.thresholds for b in budgets.load(currency)}
    folder = ReportFolder.beside(delta.root_uri, delta.storage_options)
    months = sorted({report.month_start(day) for day in partition_days(context)})
    written: dict[str, str] = {}
    totals, not_written = [], []
    for month in months:
        try:
            inputs = month_inputs(delta, month, currency, thresholds)
        except MonthWithoutCost as reason:
            # an earlier report of the month would no longer be true: it goes too
            removed = [n for n in MONTH_FILES if folder.remove(f"{month:%Y-%m}/{n}")]
            context.log.warning(f"finops_report: {reason}; removed earlier files: {removed}")
            not_written.append(str(reason))
            continue
        written = write_month(folder, inputs)
        context.log.info(f"finops_report {month:%Y-%m}: {written['report']}")
        by_unit = report.monthly_cost(inputs.allocated, "business unit")
        for row in by_unit.iter_rows(named=True):
            totals.append(
                {
                    "month": f"{month:%Y-%m}",
                    "business unit": row["business unit"],
                    f"amortized ({currency})": format_money(row["amortized"], inputs.minor_units),
                }
            )
    metadata: dict[str, Any] = {
        "months": ", ".join(f"{m:%Y-%m}" for m in months),
        "amortized_cost_by_business_unit": markdown_table(totals),
    }
    if written:
        metadata |= {
            "report": dg.MetadataValue.url(written["report"]),
            "report_path": dg.MetadataValue.path(written["report"]),
            "showback_csv": dg.MetadataValue.path(written["showback_csv"]),
            "showback_parquet": dg.MetadataValue.path(written["showback_parquet"]),
        }
    if not_written:
        metadata["not_written"] = "; ".join(not_written)
    return dg.MaterializeResult(metadata=metadata)
