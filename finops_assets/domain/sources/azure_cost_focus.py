"""Azure Cost Management rows (Query API pages, actual/amortized exports) -> FOCUS 1.2 rows.

Follows Microsoft's published conversion (microsoft/finops-toolkit docs-mslearn/focus/convert.md
@ 04d370f; the fidelity test lists where we differ and why):
- ChargeType: Usage and UnusedReservation/UnusedSavingsPlan -> Usage, Purchase -> Purchase,
  Refund -> Purchase with ChargeClass Correction, Tax -> Tax, RoundingAdjustment -> Adjustment.
- Commitment purchases (and refunds) have EffectiveCost 0: their cost reaches EffectiveCost
  through the amortized usage rows, never twice. Usage covered by a reservation or savings plan
  (PricingModel Reservation/SavingsPlan) has BilledCost 0: in an amortized export its cost is
  the amortized share, billed by the purchase (in an actual export that cost is already 0).
- PricingQuantity = Quantity / PricingBlockSize, PricingUnit = ConsumedUnit = DistinctUnits of
  UnitOfMeasure (PricingUnits.csv); ConsumedQuantity = Quantity on Usage rows.
- BillingAccountId: EA the billing account (enrollment), MCA the billing profile.
- Services by ConsumedService and ResourceType (Services.csv, through the service catalog).
"""

import polars as pl

from finops_assets.domain.focus import SOURCE_FOCUS_COLUMNS, TS, with_later_columns
from finops_assets.domain.money import MONEY
from finops_assets.domain.sources import azure_focus_later as later
from finops_assets.domain.sources import azure_reference

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


def _commitment_id() -> pl.Expr:
    """BenefitId, else ReservationId (older exports and Query API pages)."""
    return pl.coalesce(
        pl.col("benefit_id").replace("", None), pl.col("reservation_id").replace("", None)
    )


def _commitment_priced() -> pl.Expr:
    return _lower("pricing_model").is_in(["reservation", "savingsplan"]).fill_null(False)


def billed_cost_expr() -> pl.Expr:
    """BilledCost: 0 on usage a reservation or savings plan covers, else the row's cost."""
    covered = (_lower("charge_type").fill_null("usage") == "usage") & _commitment_priced()
    return pl.when(covered).then(pl.lit(0).cast(MONEY)).otherwise(pl.col("cost"))


def _effective_cost(category: pl.Expr) -> pl.Expr:
    """The cost, except 0 on commitment purchases (amortization carries them)."""
    purchase = (category == "Purchase") & (_commitment_id().is_not_null() | _commitment_priced())
    return (
        pl.when(purchase)
        .then(pl.lit(0).cast(MONEY))
        .otherwise(pl.col("cost"))
        .alias("EffectiveCost")
    )


def _commitment(charge: pl.Expr, category: pl.Expr) -> list[pl.Expr]:
    """CommitmentDiscount* from BenefitId (/microsoft.capacity/ reservation, else savings plan)."""
    cid = _commitment_id()
    has = cid.is_not_null()
    plan = cid.str.to_lowercase().str.contains("/microsoft.billingbenefits/").fill_null(False)
    unused = charge.is_in(["unusedreservation", "unusedsavingsplan"])
    status = pl.when(unused).then(pl.lit("Unused")).otherwise(pl.lit("Used"))
    return [
        pl.when(has & plan)
        .then(pl.lit("Spend"))
        .when(has)
        .then(pl.lit("Usage"))
        .alias("CommitmentDiscountCategory"),
        cid.alias("CommitmentDiscountId"),
        pl.when(has)
        .then(pl.coalesce(pl.col("benefit_name").replace("", None), pl.col("reservation_name")))
        .alias("CommitmentDiscountName"),
        pl.when(has & (category == "Usage")).then(status).alias("CommitmentDiscountStatus"),
        pl.when(has & plan)
        .then(pl.lit("Savings Plan"))
        .when(has)
        .then(pl.lit("Reservation"))
        .alias("CommitmentDiscountType"),
    ]


def _billing_account(scope_account: pl.Expr) -> list[pl.Expr]:
    """EA: the billing account (= billing profile); MCA: the billing profile."""
    account, profile = pl.col("billing_account_id"), pl.col("billing_profile_id")
    mca = (profile.is_not_null() & account.is_not_null() & (profile != account)).fill_null(False)
    return [
        pl.when(mca)
        .then(profile)
        .otherwise(pl.coalesce(account, scope_account))
        .alias("BillingAccountId"),
        pl.when(mca)
        .then(pl.col("billing_profile_name"))
        .otherwise(pl.col("billing_account_name"))
        .alias("BillingAccountName"),
        pl.when(mca)
        .then(pl.lit("Billing Profile"))
        .otherwise(pl.lit("Billing Account"))
        .alias("BillingAccountType"),
    ]


def _quantities(charge: pl.Expr) -> list[pl.Expr]:
    """Pricing and consumed quantity and unit by Microsoft's PricingUnits.csv.

    Only where the row has both Quantity and UnitOfMeasure (a quantity without its unit means
    nothing); a unit the file does not list keeps its text, with block size 1. PricingQuantity
    is rounded half-up at MONEY's scale (10 decimals).
    """
    quantity = pl.col("quantity")
    unit = pl.coalesce("x_distinct_unit", "unit_of_measure")
    measured = quantity.is_not_null() & pl.col("unit_of_measure").is_not_null()
    block = pl.col("x_block_size").fill_null(1).cast(pl.Decimal(38, 0))
    pricing = (quantity.cast(pl.Decimal(38, 20)) / block).round(10, mode="half_away_from_zero")
    usage = (charge == "usage") & measured
    return [
        pl.when(usage).then(quantity).alias("ConsumedQuantity"),
        pl.when(usage).then(unit).alias("ConsumedUnit"),
        pl.when(measured).then(pricing.cast(MONEY)).alias("PricingQuantity"),
        pl.when(measured).then(unit).alias("PricingUnit"),
    ]


def _frequency(category: pl.Expr) -> pl.Expr:
    """Frequency (OneTime, Recurring, UsageBased) when the file has it, else by ChargeCategory.

    Microsoft maps other values to "Other", which FOCUS 1.2 does not allow: those fall back too.
    """
    known = {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"}
    given = _lower("frequency").replace_strict(known, default=None, return_dtype=pl.Utf8)
    fallback = pl.when(category == "Purchase").then(pl.lit("One-Time"))
    return pl.coalesce(given, fallback.otherwise(pl.lit("Usage-Based")))


def _service_code() -> pl.Expr:
    """`<ConsumedService>|<resource type>` where the catalog knows the pair, else as before."""
    pair = pl.concat_str(
        [pl.col("consumed_service"), pl.col("x_resource_type")], separator="|"
    ).str.to_lowercase()
    known = pair.is_in(list(azure_reference.service_pairs())).fill_null(False)
    fallback = pl.coalesce("consumed_service", "service_name", "meter_category")
    return pl.when(known).then(pair).otherwise(fallback).alias("x_service_code")


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
        pl.coalesce(
            pl.col("resource_name").replace("", None),
            pl.col("resource_id").str.extract(r"([^/]+)$", 1),
        ).alias("ResourceName"),
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


def _with_lookups(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw rows plus x_block_size, x_distinct_unit (PricingUnits.csv) and x_resource_type."""
    units = azure_reference.pricing_units()
    joined = raw.join(units, on="unit_of_measure", how="left", maintain_order="left")
    derived = azure_reference.resource_types(joined["resource_id"])
    return joined.with_columns(
        pl.coalesce(pl.col("resource_type"), derived).str.to_lowercase().alias("x_resource_type")
    )


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """One FOCUS row per raw row; BilledCost sums to billed_totals, so totals are conserved."""
    charge = _lower("charge_type").fill_null("usage")
    category = charge.replace_strict(_CATEGORY, default="Usage", return_dtype=pl.Utf8)
    scope_account = pl.col("billing_scope").str.extract(r"billingAccounts/([^/]+)", 1)
    null_s = pl.lit(None, pl.Utf8)
    pricing = _lower("pricing_model").replace_strict(_PRICING, default=None, return_dtype=pl.Utf8)
    out = _with_lookups(raw).select(
        null_s.alias("AvailabilityZone"),
        billed_cost_expr().alias("BilledCost"),
        *_billing_account(scope_account),
        pl.col("currency").alias("BillingCurrency"),
        *_periods(),
        category.alias("ChargeCategory"),
        pl.when(charge == "refund").then(pl.lit("Correction")).alias("ChargeClass"),
        pl.coalesce(
            "product", "meter", "meter_subcategory", "meter_category", "service_name"
        ).alias("ChargeDescription"),
        _frequency(category).alias("ChargeFrequency"),
        *_commitment(charge, category),
        *_quantities(charge)[:2],
        pl.col("cost").alias("ContractedCost"),
        pl.lit(None, MONEY).alias("ContractedUnitPrice"),
        _effective_cost(category),
        null_s.alias("InvoiceId"),
        pl.lit("Microsoft").alias("InvoiceIssuerName"),
        pl.col("cost").alias("ListCost"),
        pl.lit(None, MONEY).alias("ListUnitPrice"),
        pl.when(category == "Usage")
        .then(pricing.fill_null("Standard"))
        .when(category == "Purchase")
        .then(pricing)
        .alias("PricingCategory"),
        later.pricing_currency_expr().alias("PricingCurrency"),
        *_quantities(charge)[2:],
        pl.lit("Microsoft").alias("ProviderName"),
        pl.coalesce(
            pl.col("publisher_name").replace("", None),
            pl.when(_lower("publisher_type") == "marketplace")
            .then(pl.lit("Marketplace"))
            .otherwise(pl.lit("Microsoft")),
        ).alias("PublisherName"),
        *_resource_columns(),
        pl.col("tags_json").alias("Tags"),
        pl.col("meter").replace("", None).alias("SkuMeter"),  # FOCUS 1.1, convert.md: MeterName
        *later.capacity_reservation_columns(),
        *later.commitment_quantity_columns(
            _commitment(charge, category)[0],
            _effective_cost(category),
            _quantities(charge)[2],
            _quantities(charge)[3],
        ),
        pl.col("additional_info").alias("SkuPriceDetails"),
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
        _service_code(),
    )
    out = out.with_columns(later.sku_price_details(out["SkuPriceDetails"]).alias("SkuPriceDetails"))
    typed = [pl.col(c).cast(TS if t == TS else t) for c, t in SOURCE_FOCUS_COLUMNS.items()]
    return with_later_columns(out).select(typed)
