"""FOCUS units and nullability applied to every source's rows in normalization."""

import datetime as dt

import polars as pl

from finops_assets.domain import fx
from finops_assets.domain.focus_rules import apply_focus_rules
from finops_assets.domain.units import focus_unit_expr


def test_provider_units_become_focus_units_and_placeholders_null():
    units = pl.Series(["Hrs", "GB-Mo", "gibibyte hour", "N/A", "", "Requests", "widgets"])
    out = units.to_frame("u").select(focus_unit_expr(pl.col("u")).alias("u"))["u"].to_list()
    assert out == ["Hours", "GB-Months", "GiB-Hours", None, None, "Requests", "widgets"]


def _row(**values) -> dict:
    base = {
        "ChargeCategory": "Usage",
        "CommitmentDiscountStatus": None,
        "ListUnitPrice": "0.1",
        "ContractedUnitPrice": "0.1",
        "PricingQuantity": "2",
        "PricingUnit": "Hrs",
        "PricingCategory": "Standard",
        "SkuId": "sku",
        "SkuPriceId": "price",
        "ConsumedQuantity": "2",
        "ConsumedUnit": "Hrs",
        "BillingAccountId": "1",
        "BillingAccountType": "Billing Account",
        "SubAccountId": None,
        "SubAccountType": "Project",
        "SubAccountName": "p",
        "RegionId": None,
        "RegionName": "Iowa",
        "ResourceId": None,
        "ResourceType": "vm",
        "ResourceName": "vm-1",
    }
    return {**base, **values}


def test_tax_unused_commitment_and_orphan_descriptions_are_nulled():
    frame = pl.DataFrame(
        [_row(), _row(ChargeCategory="Tax"), _row(CommitmentDiscountStatus="Unused")]
    ).with_columns(pl.col("PricingQuantity", "ConsumedQuantity").cast(pl.Decimal(38, 10)))
    usage, tax, unused = apply_focus_rules(frame).to_dicts()
    assert usage["PricingUnit"] == "Hours" and usage["ConsumedUnit"] == "Hours"
    assert usage["SubAccountType"] is None and usage["RegionName"] is None
    assert usage["BillingAccountType"] == "Billing Account" and usage["ResourceType"] is None
    for column in ("ListUnitPrice", "PricingQuantity", "PricingUnit", "SkuId", "SkuPriceId"):
        assert tax[column] is None, column
    assert tax["ConsumedQuantity"] is None and tax["ConsumedUnit"] is None
    assert unused["ConsumedQuantity"] is None and unused["PricingUnit"] == "Hours"


def test_day_rates_version_changes_with_a_rate_and_not_with_row_order():
    rates = fx.rates_for_day(fx.load_shipped_ecb_rates(), dt.date(2026, 10, 2), ["USD", "JPY"])
    version = fx.day_rates_version(rates)
    assert fx.day_rates_version(rates.reverse()) == version
    changed = rates.with_columns(
        pl.when(pl.col("currency") == "JPY")
        .then(pl.lit(1))
        .otherwise(pl.col("units_per_eur"))
        .cast(fx.RATE)
        .alias("units_per_eur")
    )
    assert fx.day_rates_version(changed) != version


def test_units_of_the_focus_1_0_sample_get_focus_unit_format():
    """Lambda's 'Lambda-GB-Seconds' is GB-Seconds; a provisioned rate per month is GiBps-Months
    (FOCUS's grammar has no rate-per-time joined to a time unit, so the rate is a count unit)."""
    units = pl.Series(["Lambda-GB-Seconds", "GiB/Second-Months", "GB/Hour"])
    out = units.to_frame("u").select(focus_unit_expr(pl.col("u")).alias("u"))["u"].to_list()
    assert out == ["GB-Seconds", "GiBps-Months", "GB/Hour"]
