"""Azure Cost Management query rows -> FOCUS 1.2 rows (actual cost: EffectiveCost = BilledCost).

Commitment purchases (and their refunds) have EffectiveCost 0 as FOCUS requires: their cost
reaches EffectiveCost through the amortized usage rows, never twice. ChargeType mapping follows Microsoft's own FOCUS conversion (finops-toolkit): Usage and
UnusedReservation/UnusedSavingsPlan -> Usage, Purchase -> Purchase, Refund -> Purchase with
ChargeClass Correction, Tax -> Tax, RoundingAdjustment -> Adjustment.
"""

import polars as pl

from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS, TS
from finops_assets.domain.money import MONEY

_CATEGORY = {
    "usage": "Usage",
    "unusedreservation": "Usage",
    "unusedsavingsplan": "Usage",
    "purchase": "Purchase",
    "refund": "Purchase",
    "tax": "Tax",
    "roundingadjustment": "Adjustment",
    "adjustment": "Adjustment",
    "credit": "Credit",
}
_PRICING = {
    "ondemand": "Standard",
    "reservation": "Committed",
    "savingsplan": "Committed",
    "spot": "Dynamic",
}


def _lower(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().str.replace_all(r"[\s_-]", "")


def _has_commitment() -> pl.Expr:
    return pl.col("reservation_id").is_not_null() & (pl.col("reservation_id") != "")


def _effective_cost(category: pl.Expr) -> pl.Expr:
    """The cost, except 0 on commitment purchases (amortization carries them)."""
    purchase = (category == "Purchase") & _has_commitment()
    return (
        pl.when(purchase)
        .then(pl.lit(0).cast(MONEY))
        .otherwise(pl.col("cost"))
        .alias("EffectiveCost")
    )


def _commitment(charge: pl.Expr) -> list[pl.Expr]:
    has = _has_commitment()
    when = pl.when(has)
    status = pl.when(charge == "unusedreservation").then(pl.lit("Unused")).otherwise(pl.lit("Used"))
    usage_like = charge.is_in(["usage", "unusedreservation"])
    return [
        when.then(pl.lit("Usage")).alias("CommitmentDiscountCategory"),
        when.then(pl.col("reservation_id")).alias("CommitmentDiscountId"),
        when.then(pl.col("reservation_name")).alias("CommitmentDiscountName"),
        pl.when(has & usage_like).then(status).alias("CommitmentDiscountStatus"),
        when.then(pl.lit("Reservation")).alias("CommitmentDiscountType"),
    ]


def _periods() -> list[pl.Expr]:
    day = pl.col("x_charge_date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    month = day.dt.truncate("1mo")
    return [
        month.dt.offset_by("1mo").alias("BillingPeriodEnd"),
        month.alias("BillingPeriodStart"),
        day.dt.offset_by("1d").alias("ChargePeriodEnd"),
        day.alias("ChargePeriodStart"),
    ]


def _resource_columns() -> list[pl.Expr]:
    """Where the cost was incurred: region, resource, service, subscription."""
    region = pl.col("resource_location").str.to_lowercase().str.replace_all(" ", "")
    null_s = pl.lit(None, pl.Utf8)
    return [
        region.alias("RegionId"),
        pl.col("resource_location").alias("RegionName"),
        pl.col("resource_id").alias("ResourceId"),
        pl.col("resource_id").str.extract(r"([^/]+)$", 1).alias("ResourceName"),
        pl.col("resource_type").alias("ResourceType"),
        null_s.alias("ServiceCategory"),
        pl.coalesce("service_name", "meter_category").alias("ServiceName"),
        pl.col("meter_subcategory").alias("ServiceSubcategory"),
        null_s.alias("SkuId"),
        null_s.alias("SkuPriceId"),
        pl.col("subscription_id").alias("SubAccountId"),
        pl.col("subscription_name").alias("SubAccountName"),
        pl.lit("Subscription").alias("SubAccountType"),
    ]


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """One FOCUS row per query row; BilledCost = cost, so the totals are conserved exactly."""
    charge = _lower("charge_type").fill_null("usage")
    category = charge.replace_strict(_CATEGORY, default="Usage", return_dtype=pl.Utf8)
    scope_account = pl.col("billing_scope").str.extract(r"billingAccounts/([^/]+)", 1)
    null_s = pl.lit(None, pl.Utf8)
    is_usage = category == "Usage"
    out = raw.select(
        null_s.alias("AvailabilityZone"),
        pl.col("cost").alias("BilledCost"),
        scope_account.alias("BillingAccountId"),
        null_s.alias("BillingAccountName"),
        pl.lit("Billing Account").alias("BillingAccountType"),
        pl.col("currency").alias("BillingCurrency"),
        *_periods(),
        category.alias("ChargeCategory"),
        pl.when(charge == "refund").then(pl.lit("Correction")).alias("ChargeClass"),
        pl.coalesce("meter", "meter_subcategory", "meter_category", "service_name").alias(
            "ChargeDescription"
        ),
        pl.when(category == "Purchase")
        .then(pl.lit("One-Time"))
        .otherwise(pl.lit("Usage-Based"))
        .alias("ChargeFrequency"),
        *_commitment(charge),
        pl.lit(None, MONEY).alias("ConsumedQuantity"),
        null_s.alias("ConsumedUnit"),
        pl.col("cost").alias("ContractedCost"),
        pl.lit(None, MONEY).alias("ContractedUnitPrice"),
        _effective_cost(category),
        null_s.alias("InvoiceId"),
        pl.lit("Microsoft").alias("InvoiceIssuerName"),
        pl.col("cost").alias("ListCost"),
        pl.lit(None, MONEY).alias("ListUnitPrice"),
        pl.when(is_usage)
        .then(_lower("pricing_model").replace_strict(_PRICING, default="Standard"))
        .alias("PricingCategory"),
        pl.col("currency").alias("PricingCurrency"),
        pl.lit(None, MONEY).alias("PricingQuantity"),
        null_s.alias("PricingUnit"),
        pl.lit("Microsoft").alias("ProviderName"),
        pl.when(_lower("publisher_type") == "marketplace")
        .then(pl.lit("Marketplace"))
        .otherwise(pl.lit("Microsoft"))
        .alias("PublisherName"),
        *_resource_columns(),
        pl.col("tags_json").alias("Tags"),
        pl.col("x_charge_date"),
        pl.lit("azure").alias("x_provider"),
        pl.lit("azure_cost").alias("x_source"),
        pl.col("x_ingestion_key"),
        pl.concat_str(
            [
                pl.col("x_ingestion_key"),
                pl.col("x_source_file"),
                pl.col("x_source_line").cast(pl.Utf8),
            ],
            separator=":",
        ).alias("x_source_row_key"),
        pl.coalesce("consumed_service", "service_name", "meter_category").alias("x_service_code"),
    )
    typed = [pl.col(c).cast(TS if t == TS else t) for c, t in SOURCE_FOCUS_COLUMNS.items()]
    return out.select(typed)
