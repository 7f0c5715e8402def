"""GCP billing export raw rows -> FOCUS 1.2 rows (one per export row, one per credit).

EffectiveCost equals BilledCost on every row (no CUD amortization yet): the credit rows carry the
discounts, so sum(EffectiveCost) = sum(BilledCost) = what the billing account is charged.
"""

import json

import polars as pl

from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS, TS, with_later_columns
from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.gcp_regions import REGION_NAMES

_CREDIT_DTYPE = pl.List(
    pl.Struct({k: pl.Utf8() for k in ("name", "amount", "full_name", "id", "type")})
)
_CATEGORY = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding_error": "Adjustment",
}
_CUD = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")


def _tags(labels_json: pl.Series) -> pl.Series:
    """Canonical labels `[{"key","value"}]` -> FOCUS Tags JSON object (per distinct value)."""
    mapping: dict[str, str | None] = {}
    for value in labels_json.drop_nulls().unique().to_list():
        pairs = {item["key"]: item["value"] for item in json.loads(value)}
        mapping[value] = json.dumps(pairs, sort_keys=True, separators=(",", ":")) if pairs else None
    return labels_json.replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def _billing_period(raw: pl.DataFrame) -> list[pl.Expr]:
    month = pl.coalesce(
        pl.col("invoice_month").str.to_date("%Y%m", strict=False),
        pl.col("usage_start_time").dt.date().dt.truncate("1mo"),
    )
    start = month.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return [
        start.alias("BillingPeriodStart"),
        start.dt.offset_by("1mo").alias("BillingPeriodEnd"),
    ]


def _common(raw: pl.DataFrame) -> list[pl.Expr]:
    """Columns a credit row shares with the export row it belongs to."""
    return [
        pl.col("location_zone").alias("AvailabilityZone"),
        pl.col("billing_account_id").alias("BillingAccountId"),
        pl.lit(None, pl.Utf8).alias("BillingAccountName"),
        pl.lit("Billing Account").alias("BillingAccountType"),
        pl.col("currency").alias("BillingCurrency"),
        *_billing_period(raw),
        pl.col("usage_end_time").alias("ChargePeriodEnd"),
        pl.col("usage_start_time").alias("ChargePeriodStart"),
        pl.lit(None, pl.Utf8).alias("InvoiceId"),
        pl.lit("Google Cloud").alias("InvoiceIssuerName"),
        pl.col("currency").alias("PricingCurrency"),
        pl.lit("Google Cloud").alias("ProviderName"),
        pl.coalesce(pl.col("seller_name"), pl.lit("Google Cloud")).alias("PublisherName"),
        pl.col("location_region").alias("RegionId"),
        pl.col("location_region")
        .replace_strict(REGION_NAMES, default=pl.col("location_region"), return_dtype=pl.Utf8)
        .alias("RegionName"),
        pl.coalesce(pl.col("resource_global_name"), pl.col("resource_name")).alias("ResourceId"),
        pl.col("resource_name").alias("ResourceName"),
        pl.lit(None, pl.Utf8).alias("ResourceType"),
        pl.lit(None, pl.Utf8).alias("ServiceCategory"),
        pl.col("service_description").alias("ServiceName"),
        pl.lit(None, pl.Utf8).alias("ServiceSubcategory"),
        pl.col("sku_id").alias("SkuId"),
        pl.lit(None, pl.Utf8).alias("SkuPriceId"),
        pl.col("project_id").alias("SubAccountId"),
        pl.col("project_name").alias("SubAccountName"),
        pl.lit("Project").alias("SubAccountType"),
        pl.col("x_charge_date"),
        pl.lit("gcp").alias("x_provider"),
        pl.lit("gcp_billing_export").alias("x_source"),
        pl.col("x_ingestion_key"),
        pl.col("service_description").alias("x_service_code"),
    ]


def _row_key() -> pl.Expr:
    return pl.concat_str(
        [pl.col("x_ingestion_key"), pl.col("x_source_file"), pl.col("x_source_line").cast(pl.Utf8)],
        separator=":",
    )


def _export_rows(raw: pl.DataFrame) -> pl.DataFrame:
    category = pl.col("cost_type").replace_strict(_CATEGORY, default="Usage", return_dtype=pl.Utf8)
    is_usage = category == "Usage"
    null_s = pl.lit(None, pl.Utf8)
    return raw.select(
        *_common(raw),
        pl.col("cost").alias("BilledCost"),
        category.alias("ChargeCategory"),
        pl.when(pl.col("cost_type") == "adjustment")
        .then(pl.lit("Correction"))
        .alias("ChargeClass"),
        pl.col("sku_description").alias("ChargeDescription"),
        pl.when(is_usage)
        .then(pl.lit("Usage-Based"))
        .otherwise(pl.lit("One-Time"))
        .alias("ChargeFrequency"),
        *[null_s.alias(c) for c in _COMMITMENT],
        pl.when(is_usage).then(pl.col("usage_amount")).alias("ConsumedQuantity"),
        pl.when(is_usage).then(pl.col("usage_unit")).alias("ConsumedUnit"),
        pl.col("cost").alias("ContractedCost"),
        pl.col("price_effective_price").alias("ContractedUnitPrice"),
        pl.col("cost").alias("EffectiveCost"),
        pl.coalesce(pl.col("cost_at_list"), pl.col("cost")).alias("ListCost"),
        pl.lit(None, MONEY).alias("ListUnitPrice"),
        pl.when(is_usage).then(pl.lit("Standard")).alias("PricingCategory"),
        pl.when(is_usage).then(pl.col("usage_amount_in_pricing_units")).alias("PricingQuantity"),
        pl.when(is_usage).then(pl.col("usage_pricing_unit")).alias("PricingUnit"),
        pl.col("labels_json").alias("Tags"),
        _row_key().alias("x_source_row_key"),
    )


_COMMITMENT = (
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
)


def _credit_rows(raw: pl.DataFrame) -> pl.DataFrame:
    credits = (
        raw.filter(pl.col("credits_json").str.len_bytes() > 2)
        .with_columns(pl.col("credits_json").str.json_decode(_CREDIT_DTYPE).alias("__credit"))
        .filter(pl.col("__credit").list.len() > 0)
        .with_columns(pl.int_ranges(pl.col("__credit").list.len()).alias("__credit_no"))
        .explode("__credit", "__credit_no", empty_as_null=True)
        .unnest("__credit", separator=".")
    )
    amount = parse_money_expr("__credit.amount")
    is_cud = pl.col("__credit.type").is_in(_CUD)
    cud = pl.when(is_cud)
    null_m = pl.lit(None, MONEY)
    return credits.select(
        *_common(credits),
        amount.alias("BilledCost"),
        pl.lit("Credit").alias("ChargeCategory"),
        pl.lit(None, pl.Utf8).alias("ChargeClass"),
        pl.coalesce("__credit.full_name", "__credit.name", "__credit.type").alias(
            "ChargeDescription"
        ),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        cud.then(
            pl.when(pl.col("__credit.type").str.ends_with("DOLLAR_BASE"))
            .then(pl.lit("Spend"))
            .otherwise(pl.lit("Usage"))
        ).alias("CommitmentDiscountCategory"),
        cud.then(pl.col("__credit.id")).alias("CommitmentDiscountId"),
        cud.then(pl.coalesce("__credit.full_name", "__credit.name")).alias(
            "CommitmentDiscountName"
        ),
        cud.then(pl.lit("Used")).alias("CommitmentDiscountStatus"),
        cud.then(pl.lit("Committed Use Discount")).alias("CommitmentDiscountType"),
        null_m.alias("ConsumedQuantity"),
        pl.lit(None, pl.Utf8).alias("ConsumedUnit"),
        amount.alias("ContractedCost"),
        null_m.alias("ContractedUnitPrice"),
        amount.alias("EffectiveCost"),
        pl.lit(0).cast(MONEY).alias("ListCost"),
        null_m.alias("ListUnitPrice"),
        pl.lit(None, pl.Utf8).alias("PricingCategory"),
        null_m.alias("PricingQuantity"),
        pl.lit(None, pl.Utf8).alias("PricingUnit"),
        pl.col("labels_json").alias("Tags"),
        pl.concat_str(
            [_row_key(), pl.lit("credit"), pl.col("__credit_no").cast(pl.Utf8)], separator=":"
        ).alias("x_source_row_key"),
    )


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """Export rows -> FOCUS rows; each credit becomes its own Credit row; BilledCost conserved."""
    columns = list(SOURCE_FOCUS_COLUMNS)
    frames = [with_later_columns(f(raw)).select(columns) for f in (_export_rows, _credit_rows)]
    out = pl.concat(frames, how="vertical_relaxed")
    out = out.with_columns(_tags(out["Tags"]).alias("Tags"))
    for column in (
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "BillingPeriodStart",
        "BillingPeriodEnd",
    ):
        out = out.with_columns(pl.col(column).cast(TS))
    return out.select([pl.col(c).cast(t) for c, t in SOURCE_FOCUS_COLUMNS.items()])
