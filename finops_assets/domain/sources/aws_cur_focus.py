"""CUR raw rows -> FOCUS 1.2 rows, following AWS's own FOCUS export where it is documented.

Line item type -> ChargeCategory (FOCUS 1.2: refunds of a charge keep the category of what they
refund when it is known; a CUR 'Refund' line does not say, so it is an Adjustment with
ChargeClass 'Correction', as it corrects charges already invoiced):

    Usage, DiscountedUsage, SavingsPlanCoveredUsage, SavingsPlanNegation  -> Usage
    Fee, RIFee, SavingsPlanRecurringFee, SavingsPlanUpfrontFee            -> Purchase
    Fee of AWS Support (product code AWS*Support*)          -> Usage, ChargeFrequency Recurring

AWS Support is billed after the month from that month's usage: it buys nothing for later, so
it is not a Purchase "intended to cover future eligible charges" (FOCUS 1.2's condition for
EffectiveCost 0, which the focus-validator applies to every Purchase) and keeps its cost.
    Tax -> Tax     Credit, BundledDiscount, EdpDiscount... -> Credit     Refund -> Adjustment

Costs: BilledCost = line_item_unblended_cost on every row, so sum(BilledCost) equals the CUR's
own unblended total exactly (SavingsPlanNegation rows cancel the covered usage's on-demand cost).
EffectiveCost = the SP / RI effective cost on covered usage, 0 on SavingsPlanNegation and on the
commitment fee rows (their cost is amortized into covered usage: counting both would double
count; the unused part of a commitment is therefore not shown), the unblended cost otherwise.
ListCost = pricing_public_on_demand_cost (unblended when absent); ContractedCost = BilledCost.
"""

import polars as pl

from finops_assets.domain import focus
from finops_assets.domain.distinct import per_distinct
from finops_assets.domain.money import MONEY
from finops_assets.domain.sources.aws_regions import REGION_CODES
from finops_assets.domain.sources.extra_columns import EXTRA_COLUMN
from finops_assets.domain.units import focus_unit_expr

SOURCE = "aws_cur"
PROVIDER = "aws"

_USAGE = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation")
_PURCHASE = ("Fee", "RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")
_CREDIT = ("Credit", "BundledDiscount", "EdpDiscount", "PrivateRateDiscount", "DistributorDiscount")
_NO_EFFECTIVE_COST = (
    "SavingsPlanNegation",
    "SavingsPlanRecurringFee",
    "SavingsPlanUpfrontFee",
    "RIFee",
)
_ONE_TIME = ("Fee", "SavingsPlanUpfrontFee", "Tax", "Credit", "Refund")
_ZERO = pl.lit(0).cast(MONEY)
_SUPPORT_PRODUCT = r"^AWS\w*Support"


def _line_type() -> pl.Expr:
    return pl.col("line_item_line_item_type")


def _is_support_fee() -> pl.Expr:
    """A Fee row of an AWS Support plan (AWSSupportBusiness, AWSDeveloperSupport, ...)."""
    product = pl.coalesce("line_item_product_code", pl.lit(""))
    return (_line_type() == "Fee") & product.str.contains(_SUPPORT_PRODUCT)


def _charge_category() -> pl.Expr:
    kind = _line_type()
    return (
        pl.when(kind.is_in(_USAGE) | _is_support_fee())
        .then(pl.lit("Usage"))
        .when(kind.is_in(_PURCHASE))
        .then(pl.lit("Purchase"))
        .when(kind == "Tax")
        .then(pl.lit("Tax"))
        .when(kind.is_in(_CREDIT))
        .then(pl.lit("Credit"))
        .when(kind == "Refund")
        .then(pl.lit("Adjustment"))
        .otherwise(pl.lit("Adjustment"))
    )


def _effective_cost() -> pl.Expr:
    kind, unblended = _line_type(), pl.col("line_item_unblended_cost")
    return (
        pl.when(kind.is_in(_NO_EFFECTIVE_COST))
        .then(_ZERO)
        .when(kind == "SavingsPlanCoveredUsage")
        .then(pl.coalesce("savings_plan_savings_plan_effective_cost", unblended))
        .when(kind == "DiscountedUsage")
        .then(pl.coalesce("reservation_effective_cost", unblended))
        .otherwise(unblended)
    )


def _commitment_columns() -> dict[str, pl.Expr]:
    sp, ri = pl.col("savings_plan_savings_plan_a_r_n"), pl.col("reservation_reservation_a_r_n")
    kind = _line_type()
    is_sp = sp.is_not_null() & (sp.str.len_chars() > 0)
    is_ri = ri.is_not_null() & (ri.str.len_chars() > 0)
    used = kind.is_in(("SavingsPlanCoveredUsage", "DiscountedUsage"))
    ri_unit = focus_unit_expr(pl.col("pricing_unit").replace("", None))
    return {
        "CommitmentDiscountId": pl.when(is_sp).then(sp).when(is_ri).then(ri),
        "CommitmentDiscountCategory": pl.when(is_sp)
        .then(pl.lit("Spend"))
        .when(is_ri)
        .then(pl.lit("Usage")),
        "CommitmentDiscountType": pl.when(is_sp)
        .then(pl.lit("Savings Plan"))
        .when(is_ri)
        .then(pl.lit("Reserved Instance")),
        "CommitmentDiscountStatus": pl.when(used & (is_sp | is_ri)).then(pl.lit("Used")),
        # Covered usage, as the FOCUS working group's examples show: a Savings Plan its effective
        # cost in the pricing currency, a reservation its hours (only with their unit).
        "CommitmentDiscountQuantity": pl.when(used & is_sp)
        .then(_effective_cost())
        .when(used & is_ri & ri_unit.is_not_null())
        .then(pl.col("line_item_usage_amount")),
        "CommitmentDiscountUnit": pl.when(used & is_sp)
        .then(_pricing_currency())
        .when(used & is_ri)
        .then(ri_unit),
        "PricingCategory": pl.when(used)
        .then(pl.lit("Committed"))
        .when(kind == "Usage")
        .then(pl.lit("Standard")),
    }


def _tags() -> pl.Expr:
    """CUR 2.0 resource_tags JSON with the 'user_' prefix removed from user-defined keys."""

    def without_prefix(tags: pl.Expr) -> pl.Expr:
        return tags.str.replace_all(r'([{,]\s*)"user_', '$1"')

    return per_distinct(pl.col("resource_tags").cast(pl.Utf8), without_prefix)


def _frequency() -> pl.Expr:
    kind = _line_type()
    return (
        pl.when(_is_support_fee())
        .then(pl.lit("Recurring"))
        .when(kind.is_in(_ONE_TIME))
        .then(pl.lit("One-Time"))
        .when(kind.is_in(("RIFee", "SavingsPlanRecurringFee")))
        .then(pl.lit("Recurring"))
        .otherwise(pl.lit("Usage-Based"))
    )


# CUR columns outside the typed raw columns that the mapping reads from x_extra_columns:
# CUR 2.0 name -> legacy header.
_EXTRA_READ = {
    "line_item_legal_entity": "lineItem/LegalEntity",
    "product_region": "product/region",
    "product_location": "product/location",
    "pricing_rate_code": "pricing/RateCode",
    "pricing_currency": "pricing/currency",
    "capacity_reservation_capacity_reservation_arn": "capacityReservation/CapacityReservationArn",
    "capacity_reservation_capacity_reservation_status": (
        "capacityReservation/CapacityReservationStatus"
    ),
}
_EXTRA_STRUCT = "__extra_read"


def _extra_struct_expr() -> pl.Expr:
    """x_extra_columns decoded once into the few fields _EXTRA_READ names (JSON parsed once per
    row, however many fields are read)."""
    fields = {name: pl.Utf8() for pair in _EXTRA_READ.items() for name in pair}
    return pl.col(EXTRA_COLUMN).str.json_decode(pl.Struct(fields)).alias(_EXTRA_STRUCT)


def _extra(name: str) -> pl.Expr:
    """A CUR column outside the typed raw columns (null when absent or empty), by its CUR 2.0
    name or its legacy header ('product/location')."""
    struct = pl.col(_EXTRA_STRUCT).struct
    value = pl.coalesce(struct.field(name), struct.field(_EXTRA_READ[name]))
    return pl.when(value != "").then(value)


def _pricing_currency() -> pl.Expr:
    """The CUR's pricing_currency, else the billing currency."""
    return pl.coalesce(_extra("pricing_currency"), pl.col("line_item_currency_code"))


def _later_columns() -> dict[str, pl.Expr]:
    """FOCUS 1.1-1.2 columns as AWS's FOCUS 1.2 export fills them (its migration page).

    SkuMeter is the usage type (AWS: "x_UsageType ... is now the SkuMeter column"); the capacity
    reservation is the CUR 2.0 capacity reservation ARN and status (Used/Unused; its Reserved
    and Cancelled have no FOCUS value); PricingCurrency is the CUR's pricing_currency. The
    PricingCurrency* amounts are the billing-currency ones where the two currencies are the same;
    the CUR carries no amounts in another pricing currency, so they are null then.
    """
    billing, pricing = pl.col("line_item_currency_code"), _pricing_currency()
    same = (pricing == billing).fill_null(False)
    status = _extra("capacity_reservation_capacity_reservation_status")
    return {
        "SkuMeter": pl.col("line_item_usage_type").replace("", None),
        "CapacityReservationId": _extra("capacity_reservation_capacity_reservation_arn"),
        "CapacityReservationStatus": pl.when(status.is_in(["Used", "Unused"])).then(status),
        "PricingCurrency": pricing,
        "PricingCurrencyEffectiveCost": pl.when(same).then(_effective_cost()),
        "PricingCurrencyListUnitPrice": pl.when(same).then(pl.col("pricing_public_on_demand_rate")),
        "PricingCurrencyContractedUnitPrice": pl.when(same).then(
            pl.col("line_item_unblended_rate")
        ),
    }


def _publisher() -> pl.Expr:
    """The legal entity selling the row (line_item_legal_entity), as AWS's FOCUS export names it.

    'Amazon Web Services, Inc.' or 'Amazon Web Services EMEA SARL' on AWS's own rows, the seller
    of record (e.g. 'Red Hat, Inc.') on AWS Marketplace rows; 'AWS' when the file lacks it.
    """
    return pl.coalesce(_extra("line_item_legal_entity"), pl.lit("AWS"))


def _values() -> dict[str, pl.Expr]:
    unblended = pl.col("line_item_unblended_cost")
    start = pl.col("line_item_usage_start_date")
    month = start.dt.month_start()
    usage_based = _charge_category() == "Usage"
    return {
        "AvailabilityZone": pl.col("line_item_availability_zone"),
        "BilledCost": unblended,
        "BillingAccountId": pl.col("bill_payer_account_id"),
        "BillingAccountName": pl.col("bill_payer_account_name"),
        "BillingCurrency": pl.col("line_item_currency_code"),
        "BillingPeriodStart": pl.coalesce("bill_billing_period_start_date", month),
        "BillingPeriodEnd": pl.coalesce("bill_billing_period_end_date", month.dt.offset_by("1mo")),
        "ChargeCategory": _charge_category(),
        "ChargeClass": pl.when(_line_type() == "Refund").then(pl.lit("Correction")),
        "ChargeDescription": pl.col("line_item_line_item_description"),
        "ChargeFrequency": _frequency(),
        "ChargePeriodStart": start,
        "ChargePeriodEnd": pl.coalesce("line_item_usage_end_date", start),
        **_commitment_columns(),
        "ConsumedQuantity": pl.when(usage_based).then(pl.col("line_item_usage_amount")),
        "ConsumedUnit": pl.when(usage_based).then(pl.col("pricing_unit")),
        "ContractedCost": unblended,
        "ContractedUnitPrice": pl.col("line_item_unblended_rate"),
        "EffectiveCost": _effective_cost(),
        "InvoiceId": pl.col("bill_invoice_id"),
        "InvoiceIssuerName": pl.lit("AWS"),
        "ListCost": pl.coalesce("pricing_public_on_demand_cost", unblended),
        "ListUnitPrice": pl.col("pricing_public_on_demand_rate"),
        "PricingQuantity": pl.col("line_item_usage_amount"),
        "PricingUnit": pl.col("pricing_unit"),
        "ProviderName": pl.lit("AWS"),
        "PublisherName": _publisher(),
        "RegionId": pl.coalesce(
            pl.col("product_region_code"),
            _extra("product_region"),
            _extra("product_location").replace_strict(REGION_CODES, default=None),
        ),
        "RegionName": _extra("product_location"),
        "ResourceId": pl.col("line_item_resource_id"),
        "ServiceName": pl.coalesce("product_product_name", "line_item_product_code"),
        "SkuId": pl.col("product_sku"),
        "SkuPriceId": _extra("pricing_rate_code"),
        "SubAccountId": pl.col("line_item_usage_account_id"),
        "SubAccountName": pl.col("line_item_usage_account_name"),
        "Tags": _tags(),
        "x_charge_date": pl.col("x_charge_date"),
        "x_provider": pl.lit(PROVIDER),
        "x_source": pl.lit(SOURCE),
        "x_ingestion_key": pl.col("x_ingestion_key"),
        "x_source_row_key": pl.concat_str(
            "x_ingestion_key", "x_source_file", pl.col("x_source_line").cast(pl.Utf8), separator=":"
        ),
        "x_service_code": pl.coalesce("product_servicecode", "line_item_product_code"),
        **_later_columns(),
    }


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """CUR raw rows -> FOCUS 1.2 rows; credits, refunds, tax and fees stay separate rows."""
    values = _values()
    return raw.with_columns(_extra_struct_expr()).select(
        [
            values.get(name, pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in focus.SOURCE_FOCUS_COLUMNS.items()
        ]
    )


def row_amounts(raw: pl.DataFrame) -> pl.DataFrame:
    """Per row, in order: the billed amount (line_item_unblended_cost) and its currency."""
    return raw.select(
        pl.col("line_item_unblended_cost").cast(MONEY).alias("amount"),
        pl.col("line_item_currency_code").cast(pl.Utf8).alias("currency"),
    )


def billed_totals(raw: pl.DataFrame) -> pl.DataFrame:
    """Sum of line_item_unblended_cost per currency: what AWS billed in this raw frame."""
    return (
        raw.group_by(pl.col("line_item_currency_code").alias("currency"))
        .agg(pl.col("line_item_unblended_cost").sum().cast(MONEY).alias("amount"))
        .sort("currency")
    )
