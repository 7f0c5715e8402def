"""The demo's closing report, as a finance summary: rows and money per stage, cost per business
unit, budget events, quarantine. Money in the currency's minor units, plain column names."""

import datetime as dt
from decimal import Decimal

import polars as pl

from finops_assets.domain.fx import minor_units
from finops_assets.domain.report_format import format_money
from finops_assets.report.publish import REPORTS_FOLDER
from finops_assets.sample.estate import ACCOUNTS
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
        frames.append(
            totals.select(
                pl.lit("1 raw").alias("stage"),
                pl.lit(f"{source.PROVIDER} ({source.SOURCE})").alias("provider"),
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
        pl.col("x_billed_cost_base").sum().alias("billed"),
        pl.col("x_effective_cost_base").sum().alias("amortized"),
    )
    total = per_unit["amortized"].sum() or Decimal(0)
    shares = [
        str(round(v * 100 / total, 2)) + " %" if total else "-" for v in per_unit["amortized"]
    ]
    return (
        per_unit.rename({"x_business_unit": "business unit", "x_base_currency": "currency"})
        .with_columns(pl.Series("share", shares))
        .sort("amortized", descending=True)
    )


def money_as_text(frame: pl.DataFrame, columns: tuple[str, ...], currency: str | None = None):
    """Money columns as text in minor units with thousands separators (per row's `currency`)."""
    texts = {c: [] for c in columns}  # type: dict[str, list[str]]
    for row in frame.iter_rows(named=True):
        digits = minor_units(currency or row["currency"])
        for column in columns:
            texts[column].append(format_money(row[column], digits))
    rows = {"rows": [f"{n:,}" for n in frame["rows"]]} if "rows" in frame.columns else {}
    return frame.with_columns(
        *[pl.Series(c, v, dtype=pl.Utf8) for c, v in {**texts, **rows}.items()]
    )


def explanation_lines(delta: DeltaLake, start: dt.date, end: dt.date) -> list[str]:
    """Why row counts change between stages, and why AWS appears twice."""
    normalized = _window(delta, tables.NORMALIZED_COSTS, start, end)
    credits = normalized.filter(pl.col("ChargeCategory") == "Credit").group_by("x_provider").len()
    lines = [
        "Why rows change between stages: credits are rows of their own in FOCUS (ChargeCategory",
        "'Credit'), apart from the usage they reduce. GCP's export nests its credits inside each",
        "usage row, so GCP has more rows once normalized; the billed money is the same at every",
        "stage. Allocation splits a shared row over business units, adding rows, not money.",
    ]
    for provider, count in sorted(credits.rows()):
        lines.append(f"  credit rows after normalization, {provider}: {count:,}")
    organisations = sorted(
        {
            (a.source, a.billing_account_name, a.billing_account_id)
            for a in ACCOUNTS
            if a.provider == "aws"
        }
    )
    if len({o[1] for o in organisations}) > 1:
        lines.append(
            "AWS appears twice because the sample estate has separate AWS organisations, each"
        )
        lines.append("with its own payer account and resources (not double counting):")
        lines += [
            f"  {source}: organisation {name} (payer {payer})"
            for source, name, payer in organisations
        ]
    return [*lines, ""]


def render_report(settings: Settings, start: dt.date, end: dt.date) -> str:
    """The text the demo prints after its run."""
    delta = DeltaLake(settings.lake_uri, settings.storage_options)
    lines = [f"finops_assets demo: charge days {start} .. {end}", ""]
    with pl.Config(
        tbl_rows=100,
        tbl_hide_dataframe_shape=True,
        fmt_str_lengths=60,
        tbl_hide_column_data_types=True,
        tbl_cell_alignment="RIGHT",
    ):
        stages = money_as_text(stage_totals(delta, start, end), ("billed",))
        lines += ["Rows and billed cost per stage (billing currency):", str(stages), ""]
        lines += explanation_lines(delta, start, end)
        units = money_as_text(business_unit_totals(delta, start, end), ("billed", "amortized"))
        lines += [f"Cost per business unit ({settings.base_currency}):", str(units), ""]
        lines += _budget_lines(delta, start, end)
        lines += _quarantine_lines(delta, start, end)
    lines += [
        f"FinOps report:        {settings.lake_uri}/{REPORTS_FOLDER}/<YYYY-MM>/finops_report.html",
        f"Showback for finance: {settings.lake_uri}/{REPORTS_FOLDER}/<YYYY-MM>/showback.csv",
        f"Tables (Delta Lake):  {settings.lake_uri}/<asset name>",
        f"Raw payload archive:  {settings.lake_uri}/_raw_archive/",
        f"Landing folder:       {settings.landing_dir}",
        f"Dagster home:         {settings.dagster_home}",
        f"Open the UI:          make dev   (then http://127.0.0.1:{settings.ui_port})",
    ]
    return "\n".join(lines)


def _quarantine_lines(delta: DeltaLake, start: dt.date, end: dt.date) -> list[str]:
    quarantine = _window(delta, tables.QUARANTINE, start, end)
    if quarantine.is_empty():
        return ["Quarantined rows: 0", ""]
    reasons = (
        quarantine.group_by("x_source", "x_reason")
        .agg(pl.len().alias("rows"))
        .sort("rows")
        .rename({"x_source": "source", "x_reason": "reason"})
    )
    return [f"Quarantined rows: {quarantine.height:,}", str(reasons.tail(10)), ""]


def _budget_lines(delta: DeltaLake, start: dt.date, end: dt.date) -> list[str]:
    events = _window(delta, tables.BUDGET_EVENTS, start, end)
    if events.is_empty():
        return ["Budget events raised: 0", ""]
    shown = events.select(
        pl.col("x_charge_date").alias("day"),
        pl.col("type").str.replace("com.finops.budget.threshold.", "").alias("event"),
        pl.col("subject").alias("budget"),
        pl.col("data_json").str.json_path_match("$.threshold_percent").alias("threshold %"),
        pl.col("data_json").str.json_path_match("$.basis").alias("basis"),
    ).sort("day", "budget")
    return [f"Budget events raised: {events.height}", str(shown), ""]
