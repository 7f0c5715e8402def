"""Azure actual and amortized cost exports of the same days, counted once (Microsoft's method).

Cost Management exports the same charges twice when both datasets are exported: "ActualCost"
(what the invoice bills: commitment purchases, usage a reservation covers at 0) and
"AmortizedCost" (commitment cost spread over the usage it covers and the unused share; no
commitment purchases). Microsoft's conversion to FOCUS (finops-toolkit convert.md @ 04d370f,
"How to convert"): keep every row of the amortized data and, of the actual data, only the rows
with ChargeType Purchase or Refund and PricingModel Reservation or SavingsPlan.

We apply that per charge day: when a day holds rows of both datasets, the other actual rows are
set aside as "counted in the amortized export", with their amounts, never silently dropped
(normalize records them in the quarantine under that reason, outside the quarantine limits).
A day with one dataset only keeps all its rows: what that file alone gives.
"""

import polars as pl

from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS
from finops_assets.domain.sources.common import QUARANTINE_COLUMNS

ACTUAL = "ActualCost"
AMORTIZED = "AmortizedCost"
COUNTED_IN_AMORTIZED = (
    "counted in the amortized export (Microsoft's method: of the actual export only commitment "
    "purchases and refunds are kept)"
)
_COMMITMENT_MODELS = ("reservation", "savingsplan")


def _lower(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().str.replace_all(r"[\s_-]", "")


def _commitment_priced() -> pl.Expr:
    return _lower("pricing_model").is_in(_COMMITMENT_MODELS).fill_null(False)


def commitment_purchase_expr() -> pl.Expr:
    """Rows Microsoft takes from the actual export: commitment purchases and refunds."""
    purchase = _lower("charge_type").is_in(["purchase", "refund"]).fill_null(False)
    return purchase & _commitment_priced()


def dataset_of_export(source_file: str, raw: pl.DataFrame) -> str | None:
    """ActualCost, AmortizedCost, or None when neither the name nor the rows tell.

    Used when the delivery's manifest does not declare it (with_declared_dataset). The export's
    name first (Cost Management names the dataset in the export and blob path,
    e.g. `.../AmortizedCost_<guid>.csv`); else the rows: UnusedReservation/UnusedSavingsPlan or
    commitment-covered usage with a cost only exist in amortized data, commitment purchases and
    commitment-covered usage at cost 0 only in actual data.
    """
    name = source_file.lower().replace("_", "").replace("-", "").replace(" ", "")
    if "amortized" in name or "amortised" in name:
        return AMORTIZED
    if "actual" in name:
        return ACTUAL
    if raw.is_empty():
        return None
    charge = _lower("charge_type").fill_null("")
    covered_usage = (charge == "usage") & _commitment_priced()
    signs = raw.select(
        amortized=(charge.str.starts_with("unused") | (covered_usage & (pl.col("cost") != 0)))
        .fill_null(False)
        .any(),
        actual=(commitment_purchase_expr() | (covered_usage & (pl.col("cost") == 0)))
        .fill_null(False)
        .any(),
    ).row(0, named=True)
    if signs["amortized"] and not signs["actual"]:
        return AMORTIZED
    if signs["actual"] and not signs["amortized"]:
        return ACTUAL
    return None


def with_declared_dataset(rows: pl.DataFrame, declared: str | None) -> pl.DataFrame:
    """Rows of an export file whose delivery's manifest declares its dataset: that dataset,
    whatever the name or the rows suggest (rows without an export_dataset column unchanged)."""
    if declared is None or "export_dataset" not in rows.columns:
        return rows
    return rows.with_columns(pl.lit(declared, pl.Utf8).alias("export_dataset"))


def split_counted_once(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One day's azure_cost raw rows -> (rows to count, actual rows the amortized export counts).

    Only when the day has rows of both datasets; otherwise every row is counted.
    """
    datasets = set(raw["export_dataset"].drop_nulls().unique().to_list())
    if not {ACTUAL, AMORTIZED} <= datasets:
        return raw, raw.clear()
    superseded = (pl.col("export_dataset") == ACTUAL).fill_null(False) & ~commitment_purchase_expr()
    return raw.filter(~superseded), raw.filter(superseded)


def counted_elsewhere_quarantine(focus_rows: pl.DataFrame) -> pl.DataFrame:
    """FOCUS rows of the actual export that the amortized export counts, as quarantine records.

    x_amount is the row's BilledCost and x_raw_record its FOCUS record (every money column), as
    normalization records any row it sets aside, so conservation sees their money.
    """
    return focus_rows.select(
        pl.col("x_charge_date"),
        pl.col("x_source"),
        pl.col("x_ingestion_key"),
        pl.col("x_source_row_key").alias("x_source_file"),
        pl.lit(None, dtype=pl.Int64).alias("x_source_line"),
        pl.lit("x_export_dataset").alias("x_column"),
        pl.lit(COUNTED_IN_AMORTIZED).alias("x_reason"),
        pl.struct(list(SOURCE_FOCUS_COLUMNS)).struct.json_encode().alias("x_raw_record"),
        pl.col("BilledCost").cast(pl.Utf8).alias("x_amount"),
        pl.col("BillingCurrency").alias("x_currency"),
    ).cast(QUARANTINE_COLUMNS)  # type: ignore[arg-type]


def datasets_note(raw: pl.DataFrame) -> str | None:
    """What one day's Azure rows can tell, for the day's metadata; None without export rows."""
    datasets = set(raw["export_dataset"].drop_nulls().unique().to_list())
    if datasets == {AMORTIZED}:
        return (
            "AmortizedCost export only: commitment purchases and refunds are not in it, so "
            "BilledCost lacks them; deliver the ActualCost export of the same days"
        )
    if datasets == {ACTUAL}:
        return (
            "ActualCost export only: commitment cost is billed on the purchase day, not "
            "amortized over the usage it covers; deliver the AmortizedCost export for that"
        )
    if datasets:
        return "ActualCost and AmortizedCost exports, counted once by Microsoft's method"
    return None
