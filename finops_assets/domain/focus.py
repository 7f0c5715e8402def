"""The FOCUS 1.2 cost model every stage after ingestion reads: columns, types, allowed values."""

import polars as pl

from finops_assets.domain.money import MONEY

TS = pl.Datetime("us", "UTC")

# Columns every source's `to_focus` fills (FOCUS names; nulls where a source has no value).
FOCUS_COLUMNS: dict[str, pl.DataType] = {
    "AvailabilityZone": pl.Utf8(),
    "BilledCost": MONEY,
    "BillingAccountId": pl.Utf8(),
    "BillingAccountName": pl.Utf8(),
    "BillingAccountType": pl.Utf8(),
    "BillingCurrency": pl.Utf8(),
    "BillingPeriodEnd": TS,
    "BillingPeriodStart": TS,
    "ChargeCategory": pl.Utf8(),
    "ChargeClass": pl.Utf8(),
    "ChargeDescription": pl.Utf8(),
    "ChargeFrequency": pl.Utf8(),
    "ChargePeriodEnd": TS,
    "ChargePeriodStart": TS,
    "CommitmentDiscountCategory": pl.Utf8(),
    "CommitmentDiscountId": pl.Utf8(),
    "CommitmentDiscountName": pl.Utf8(),
    "CommitmentDiscountStatus": pl.Utf8(),
    "CommitmentDiscountType": pl.Utf8(),
    "ConsumedQuantity": MONEY,
    "ConsumedUnit": pl.Utf8(),
    "ContractedCost": MONEY,
    "ContractedUnitPrice": MONEY,
    "EffectiveCost": MONEY,
    "InvoiceId": pl.Utf8(),
    "InvoiceIssuerName": pl.Utf8(),
    "ListCost": MONEY,
    "ListUnitPrice": MONEY,
    "PricingCategory": pl.Utf8(),
    "PricingCurrency": pl.Utf8(),
    "PricingQuantity": MONEY,
    "PricingUnit": pl.Utf8(),
    "ProviderName": pl.Utf8(),
    "PublisherName": pl.Utf8(),
    "RegionId": pl.Utf8(),
    "RegionName": pl.Utf8(),
    "ResourceId": pl.Utf8(),
    "ResourceName": pl.Utf8(),
    "ResourceType": pl.Utf8(),
    "ServiceCategory": pl.Utf8(),
    "ServiceName": pl.Utf8(),
    "ServiceSubcategory": pl.Utf8(),
    "SkuId": pl.Utf8(),
    "SkuPriceId": pl.Utf8(),
    "SubAccountId": pl.Utf8(),
    "SubAccountName": pl.Utf8(),
    "SubAccountType": pl.Utf8(),
    "Tags": pl.Utf8(),  # JSON object of the provider's tags, original keys and values
}

# FOCUS 1.1 to 1.4 columns beyond the 1.2 core above (FOCUS_Spec columns.mdpp of 1.3/1.4 and
# the 1.2 -> 1.3 migration guide). A FOCUS export of any version fills them from its own columns,
# a provider source where it has the value; otherwise null. normalized_costs carries them, the
# FOCUS 1.3 datasets publish them; the FOCUS 1.2 dataset (validated by focus-validator against
# model 1.2.0.1) keeps to FOCUS_COLUMNS. The Allocated* columns are not here: focus_cost_allocation
# writes our own allocation in them (an input file's stay in its raw row's x_extra_columns).
FOCUS_LATER_COLUMNS: dict[str, pl.DataType] = {
    "CapacityReservationId": pl.Utf8(),  # 1.1
    "CapacityReservationStatus": pl.Utf8(),  # 1.1: Used | Unused
    "CommitmentDiscountQuantity": MONEY,  # 1.1, a quantity in CommitmentDiscountUnit
    "CommitmentDiscountUnit": pl.Utf8(),  # 1.1
    "SkuMeter": pl.Utf8(),  # 1.1
    "SkuPriceDetails": pl.Utf8(),  # 1.1, JSON object text
    "PricingCurrencyContractedUnitPrice": MONEY,  # 1.2 (in PricingCurrency)
    "PricingCurrencyEffectiveCost": MONEY,  # 1.2 (in PricingCurrency)
    "PricingCurrencyListUnitPrice": MONEY,  # 1.2 (in PricingCurrency)
    "ServiceProviderName": pl.Utf8(),  # 1.3: who sells the service
    "HostProviderName": pl.Utf8(),  # 1.3: whose infrastructure runs it
    "ContractApplied": pl.Utf8(),  # 1.3, JSON object text
    "InvoiceDetailId": pl.Utf8(),  # a newer export's invoice line id (not in 1.3's list)
}

# Our own columns that every source's `to_focus` fills too.
SOURCE_X_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),  # UTC day of ChargePeriodStart: the Dagster partition
    "x_provider": pl.Utf8(),  # aws | gcp | azure | oci | ...
    "x_source": pl.Utf8(),  # the raw source (aws_cur, aws_cost_explorer, ...)
    "x_ingestion_key": pl.Utf8(),
    "x_source_row_key": pl.Utf8(),  # stable key of the raw row this FOCUS row came from
    "x_service_code": pl.Utf8(),  # provider-native service or SKU family, for the catalog
}

# What `to_focus` returns: FOCUS columns (1.2 core, then later versions') then source x_ columns.
SOURCE_FOCUS_COLUMNS: dict[str, pl.DataType] = {
    **FOCUS_COLUMNS,
    **FOCUS_LATER_COLUMNS,
    **SOURCE_X_COLUMNS,
}

# Added by normalization (catalog, tags, currency conversion to the base currency).
NORMALIZE_X_COLUMNS: dict[str, pl.DataType] = {
    "x_tags": pl.Utf8(),  # JSON object, keys normalized through the alias map, values trimmed
    "x_catalog_version": pl.Utf8(),
    "x_base_currency": pl.Utf8(),
    "x_fx_rate": pl.Decimal(38, 12),  # billing currency -> base currency
    "x_fx_rate_date": pl.Date(),  # the day whose published rate was used
    "x_billed_cost_base": MONEY,  # BilledCost in the base currency, half-up to its minor units
    "x_effective_cost_base": MONEY,
    "x_list_cost_base": MONEY,
    "x_contracted_cost_base": MONEY,
}

NORMALIZED_COLUMNS: dict[str, pl.DataType] = {**SOURCE_FOCUS_COLUMNS, **NORMALIZE_X_COLUMNS}

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_CLASSES = (None, "Correction")
MONEY_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def with_later_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every FOCUS_LATER_COLUMNS column it lacks added as null (a source without them)."""
    missing = [
        pl.lit(None, dtype).alias(name)
        for name, dtype in FOCUS_LATER_COLUMNS.items()
        if name not in frame.columns
    ]
    return frame.with_columns(missing) if missing else frame
