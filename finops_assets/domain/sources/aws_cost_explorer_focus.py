"""Cost Explorer raw rows -> FOCUS 1.2 rows (the mapping is documented in aws_cost_explorer)."""

import polars as pl

from finops_assets.domain import focus
from finops_assets.domain.money import MONEY

SOURCE = "aws_cost_explorer"
PROVIDER = "aws"

_RECORD_TYPE_CATEGORY = {
    "Tax": "Tax",
    "Credit": "Credit",
    "Refund": "Adjustment",
    # AWS Support is billed from the month's usage and covers nothing later: Usage, Recurring
    # (FOCUS asks EffectiveCost 0 only of purchases covering future charges; see aws_cur_focus)
    "Support": "Usage",
    "Enterprise Discount Program Discount": "Credit",
    "Solution Provider Program Discount": "Credit",
    "Bundled Discount": "Credit",
    "Private Rate Card Discount": "Credit",
    "Distributor Discount": "Credit",
}


def _group_value(definition: str) -> pl.Expr:
    """The group key of the row for this group definition (null when not grouped by it)."""
    return (
        pl.when(pl.col("group_definition_1") == definition)
        .then(pl.col("group_key_1"))
        .when(pl.col("group_definition_2") == definition)
        .then(pl.col("group_key_2"))
        .otherwise(pl.lit(None, pl.Utf8))
    )


def _tags_expr() -> pl.Expr:
    """JSON object of the TAG groups of the row; 'Key$' (untagged) contributes nothing."""
    parts = []
    for i in (1, 2):
        definition, key = pl.col(f"group_definition_{i}"), pl.col(f"group_key_{i}")
        tag_name = definition.str.strip_prefix("TAG:")
        tag_value = key.str.splitn("$", 2).struct.field("field_1")
        is_tag = definition.str.starts_with("TAG:") & (tag_value.str.len_chars() > 0)
        pair = pl.concat_str(_json_str(tag_name), pl.lit(":"), _json_str(tag_value))
        parts.append(pl.when(is_tag).then(pair))
    return pl.concat_str(
        pl.lit("{"), pl.concat_str(parts, separator=",", ignore_nulls=True), pl.lit("}")
    )


def _json_str(expr: pl.Expr) -> pl.Expr:
    escaped = expr.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        '"', '\\"', literal=True
    )
    return pl.concat_str(pl.lit('"'), escaped, pl.lit('"'))


def _charge_category() -> pl.Expr:
    record_type = _group_value("DIMENSION:RECORD_TYPE")
    by_record = (
        pl.when(record_type.is_in(list(_RECORD_TYPE_CATEGORY)))
        .then(record_type.replace_strict(_RECORD_TYPE_CATEGORY, default=None, return_dtype=pl.Utf8))
        .when(record_type.str.to_lowercase().str.contains("fee"))
        .then(pl.lit("Purchase"))
        .otherwise(pl.lit("Usage"))
    )
    service = _group_value("DIMENSION:SERVICE")
    return (
        pl.when(record_type.is_not_null())
        .then(by_record)
        .when(service == "Tax")
        .then(pl.lit("Tax"))
        .otherwise(pl.lit("Usage"))
    )


def _charge_description(category: pl.Expr) -> pl.Expr:
    """What the group is, in words: '<service> <category>' ('Amazon S3 Usage'), or the record."""
    subject = pl.coalesce(
        _group_value("DIMENSION:SERVICE"),
        _group_value("DIMENSION:USAGE_TYPE"),
        _group_value("DIMENSION:RECORD_TYPE"),
        pl.lit("AWS"),
    )
    return pl.concat_str(subject, category, separator=" ")


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """Cost Explorer raw rows -> FOCUS 1.2 rows (one per group and time period)."""
    start = pl.col("time_period_start").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    end = pl.col("time_period_end").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    month = start.dt.month_start()
    unblended = pl.col("unblended_cost_amount")
    category = _charge_category()
    values: dict[str, pl.Expr] = {
        "BilledCost": unblended,
        "BillingCurrency": pl.col("unblended_cost_unit"),
        "BillingPeriodStart": month,
        "BillingPeriodEnd": month.dt.offset_by("1mo"),
        "ChargeCategory": category,
        "ChargeClass": pl.when(_group_value("DIMENSION:RECORD_TYPE") == "Refund").then(
            pl.lit("Correction")
        ),
        "ChargeFrequency": pl.when(_group_value("DIMENSION:RECORD_TYPE") == "Support")
        .then(pl.lit("Recurring"))
        .when(category == "Usage")
        .then(pl.lit("Usage-Based"))
        .otherwise(pl.lit("One-Time")),
        "ChargeDescription": _charge_description(category),
        "ChargePeriodStart": start,
        "ChargePeriodEnd": end,
        "ConsumedQuantity": pl.col("usage_quantity_amount"),
        "ConsumedUnit": pl.col("usage_quantity_unit"),
        "ContractedCost": unblended,
        "EffectiveCost": pl.coalesce(pl.col("amortized_cost_amount"), unblended),
        "InvoiceIssuerName": pl.lit("AWS"),
        "ListCost": unblended,
        "PricingCurrency": pl.col("unblended_cost_unit"),
        "PricingQuantity": pl.col("usage_quantity_amount"),
        "PricingUnit": pl.col("usage_quantity_unit"),
        "ProviderName": pl.lit("AWS"),
        "PublisherName": pl.lit("AWS"),
        "RegionId": _group_value("DIMENSION:REGION"),
        "ServiceName": _group_value("DIMENSION:SERVICE"),
        "SubAccountId": _group_value("DIMENSION:LINKED_ACCOUNT"),
        "SubAccountName": pl.col("linked_account_name"),
        "Tags": _tags_expr(),
        "x_charge_date": pl.col("time_period_start"),
        "x_provider": pl.lit(PROVIDER),
        "x_source": pl.lit(SOURCE),
        "x_ingestion_key": pl.col("x_ingestion_key"),
        "x_source_row_key": pl.concat_str(
            "x_ingestion_key",
            "x_source_file",
            pl.col("x_source_line").cast(pl.Utf8),
            separator=":",
        ),
        "x_service_code": _group_value("DIMENSION:SERVICE"),
    }
    return raw.select(
        [
            values.get(name, pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in focus.SOURCE_FOCUS_COLUMNS.items()
        ]
    )


def row_amounts(raw: pl.DataFrame) -> pl.DataFrame:
    """Per row, in order: the billed amount (UnblendedCost) and its currency."""
    return raw.select(
        pl.col("unblended_cost_amount").cast(MONEY).alias("amount"),
        pl.col("unblended_cost_unit").cast(pl.Utf8).alias("currency"),
    )


def billed_totals(raw: pl.DataFrame) -> pl.DataFrame:
    """Sum of UnblendedCost per currency: what AWS billed in this raw frame."""
    return (
        raw.group_by(pl.col("unblended_cost_unit").alias("currency"))
        .agg(pl.col("unblended_cost_amount").sum().cast(MONEY).alias("amount"))
        .sort("currency")
    )


def with_billing_account(rows: pl.DataFrame, payer_account: str | None) -> pl.DataFrame:
    """FOCUS rows with BillingAccountId set to the payer on Cost Explorer rows that lack one.

    Cost Explorer does not name the payer; the caller resolves it (resources/aws_payer.py).
    Other sources' rows, and Cost Explorer rows that already carry one, are left as they are.
    """
    if payer_account is None:
        return rows
    fill = (pl.col("x_source") == SOURCE) & pl.col("BillingAccountId").is_null()
    return rows.with_columns(
        pl.when(fill)
        .then(pl.lit(payer_account))
        .otherwise(pl.col("BillingAccountId"))
        .alias("BillingAccountId")
    )
