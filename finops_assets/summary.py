"""The demo's closing report: rows and money per stage, cost per business unit, budget events."""

import datetime as dt
from decimal import Decimal

import polars as pl

from finops_assets.settings import Settings
from finops_assets.sources import BILLING_SOURCES
from finops_assets.storage import tables
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake


def _window(
    delta: DeltaLake, contract: TableContract, start: dt.date, end: dt.date
) -> pl.DataFrame:
    return delta.scan(contract).filter(pl.col("x_charge_date").is_between(start, end)).collect()


def stage_totals(delta: DeltaLake, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Rows and billed money per stage, provider and billing currency over the window."""
    frames = []
    for source in BILLING_SOURCES:
        raw = _window(delta, tables.raw_contract(source), start, end)
        totals = source.billed_totals(raw)
        provider = source.PROVIDER
        frames.append(
            totals.select(
                pl.lit("1 raw").alias("stage"),
                pl.lit(f"{provider} ({source.SOURCE})").alias("provider"),
                pl.col("currency"),
                pl.lit(raw.height, dtype=pl.Int64).alias("rows"),
                pl.col("amount").alias("billed"),
            )
        )
    for stage, contract in (
        ("2 normalized", tables.NORMALIZED_COSTS),
        ("3 allocated", tables.ALLOCATED_COSTS),
    ):
        frame = _window(delta, contract, start, end)
        frames.append(
            frame.group_by("x_provider", "BillingCurrency")
            .agg(
                pl.len().cast(pl.Int64).alias("rows"),
                pl.col("BilledCost").sum().alias("billed"),
            )
            .select(
                pl.lit(stage).alias("stage"),
                pl.col("x_provider").alias("provider"),
                pl.col("BillingCurrency").alias("currency"),
                "rows",
                "billed",
            )
        )
    return pl.concat(frames, how="vertical_relaxed").sort("stage", "provider", "currency")


def business_unit_totals(delta: DeltaLake, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Base-currency cost per business unit over the window, with each unit's share."""
    report = _window(delta, tables.COST_BY_BUSINESS_UNIT, start, end)
    per_unit = report.group_by("x_business_unit", "x_base_currency").agg(
        pl.col("x_billed_cost_base").sum().alias("billed_base"),
        pl.col("x_effective_cost_base").sum().alias("effective_base"),
    )
    total = per_unit["effective_base"].sum() or Decimal(0)
    shares = [
        str(round(v * 100 / total, 2)) + " %" if total else "-" for v in per_unit["effective_base"]
    ]
    return per_unit.with_columns(pl.Series("share", shares)).sort("effective_base", descending=True)


def render_report(settings: Settings, start: dt.date, end: dt.date) -> str:
    """The text the demo prints after its run."""
    delta = DeltaLake(settings.lake_uri, settings.storage_options)
    lines = [f"finops_assets demo: charge days {start} .. {end}", ""]
    with pl.Config(
        tbl_rows=100,
        tbl_hide_dataframe_shape=True,
        fmt_str_lengths=60,
        tbl_hide_column_data_types=True,
    ):
        lines += [
            "Rows and billed cost per stage (billing currency):",
            str(stage_totals(delta, start, end)),
            "",
        ]
        units = business_unit_totals(delta, start, end)
        lines += [f"Cost per business unit ({settings.base_currency}):", str(units), ""]
        lines += _budget_lines(delta, start, end)
        lines += _quarantine_lines(delta, start, end)
    lines += [
        f"Tables (Delta Lake): {settings.lake_uri}/<asset name>",
        f"Raw payload archive: {settings.lake_uri}/_raw_archive/",
        f"Landing folder:      {settings.landing_dir}",
        f"Dagster home:        {settings.dagster_home}",
        "Open the UI:         make dev   (then http://127.0.0.1:3000)",
    ]
    return "\n".join(lines)


def _quarantine_lines(delta: DeltaLake, start: dt.date, end: dt.date) -> list[str]:
    quarantine = _window(delta, tables.QUARANTINE, start, end)
    if quarantine.is_empty():
        return ["Quarantined rows: 0", ""]
    reasons = quarantine.group_by("x_source", "x_reason").agg(pl.len().alias("rows")).sort("rows")
    return [f"Quarantined rows: {quarantine.height}", str(reasons.tail(10)), ""]


def _budget_lines(delta: DeltaLake, start: dt.date, end: dt.date) -> list[str]:
    events = _window(delta, tables.BUDGET_EVENTS, start, end)
    if events.is_empty():
        return ["Budget events raised: 0", ""]
    shown = events.select(
        "x_charge_date",
        pl.col("type").str.replace("com.finops.budget.threshold.", "").alias("event"),
        "subject",
        pl.col("data_json").str.json_path_match("$.threshold_percent").alias("threshold_%"),
        pl.col("data_json").str.json_path_match("$.basis").alias("basis"),
    ).sort("x_charge_date", "subject")
    return [f"Budget events raised: {events.height}", str(shown), ""]
