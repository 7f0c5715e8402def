"""AWS's FOCUS 1.2 export ("FOCUS 1.2 with AWS columns") of CUR rows, re-stated for the test.

AWS publishes no SQL for its conversion. The rules below come from two public sources:
- AWS Data Exports user guide, "FOCUS 1.2 with AWS columns" table dictionary, its conformance
  gaps page ("ConsumedQuantity will contain the amount of usage you were charged for") and
  "Migrating from FOCUS 1.0 to FOCUS 1.2" (docs.aws.amazon.com/cur/latest/userguide/
  table-dictionary-focus-1-2-aws-columns.html, -conformance.html, -migrating.html);
- AWS's own FOCUS export rows: the 942 AWS rows of the FOCUS sample data
  (FinOps-Open-Cost-and-Usage-Spec/FOCUS-Sample-Data @ adbdd17, in public_data), which show the
  values AWS writes: PublisherName and InvoiceIssuerName are legal entities ('Amazon Web
  Services, Inc.', a Marketplace seller such as 'Red Hat Inc.'), units in FOCUS spelling
  ('Hours', not CUR's 'Hrs'), RegionName the CUR location ('US East (N. Virginia)'), SkuPriceId
  the CUR rate code ('<sku>.<offer term>.<rate>'), PricingCategory 'Standard' for on-demand
  usage, ServiceCategory 'Compute' for EC2 usage and data transfer, 'Other' for a Marketplace
  product.
FOCUS 1.1-1.2 columns (AWS's migration page: "x_UsageType (This is now the SkuMeter column)",
CapacityReservationId/Status for capacity reservations, PricingCurrency* for "virtual currency
support"): SkuMeter is line_item_usage_type; CapacityReservationId/Status are the CUR 2.0 capacity
reservation columns (its Used/Unused; FOCUS allows no other); PricingCurrency is the CUR's
pricing_currency, and where it is the billing currency the PricingCurrency* amounts are the
billing-currency ones (the same amounts in the same currency). CommitmentDiscountQuantity/Unit
are null on on-demand rows.
Only on-demand Usage line items are stated here: the public CUR files hold nothing else.
Amount columns follow the AWS table dictionary (BilledCost the invoiced, unblended cost; ListCost
the public on-demand cost); the sample's amounts are anonymized, so they show no amount rule.
"""

from decimal import Decimal

from finops_assets.domain.sources.aws_cur import cur2_column_name

_UNITS = {"Hrs": "Hours", "GB": "GB", "GB-Mo": "GB-Months"}  # AWS's FOCUS spelling (sample)
_REGION_CODES = {  # AWS's region names (public_data/reference-regions) for the files' locations
    "US East (N. Virginia)": "us-east-1",
    "US West (Oregon)": "us-west-2",
    "US West (N. California)": "us-west-1",
}


def _value(row: dict[str, str], name: str) -> str | None:
    value = row.get(name)
    return None if value is None or value == "" else value


def _decimal(row: dict[str, str], name: str) -> Decimal | None:
    value = _value(row, name)
    return None if value is None else Decimal(value)


def cur2_row(row: dict[str, str]) -> dict[str, str]:
    """A legacy CUR row ('lineItem/UsageAmount') under CUR 2.0 names ('line_item_usage_amount')."""
    return {cur2_column_name(k): v for k, v in row.items()}


def focus_row(legacy_or_cur2: dict[str, str]) -> dict[str, object]:
    """One on-demand Usage CUR row -> the FOCUS 1.2 columns AWS's export gives it."""
    row = cur2_row(legacy_or_cur2)
    assert row["line_item_line_item_type"] == "Usage" and row["pricing_term"] == "OnDemand"
    marketplace = row.get("bill_billing_entity") == "AWS Marketplace"
    unit = _UNITS[row["pricing_unit"]]
    usage = Decimal(row["line_item_usage_amount"])
    location = _value(row, "product_location")
    region = _value(row, "product_region_code") or _value(row, "product_region")
    return {
        "AvailabilityZone": _value(row, "line_item_availability_zone"),
        "BilledCost": _decimal(row, "line_item_unblended_cost"),
        "BillingAccountId": row["bill_payer_account_id"],
        "BillingCurrency": row["line_item_currency_code"],
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": _value(row, "line_item_line_item_description"),
        "ChargeFrequency": "Usage-Based",
        "CommitmentDiscountId": None,
        "CommitmentDiscountStatus": None,
        "ConsumedQuantity": usage,
        "ConsumedUnit": unit,
        "EffectiveCost": _decimal(row, "line_item_unblended_cost"),
        "InvoiceIssuerName": _value(row, "bill_invoicing_entity"),
        "ListCost": _decimal(row, "pricing_public_on_demand_cost"),
        "ListUnitPrice": _decimal(row, "pricing_public_on_demand_rate"),
        "PricingCategory": "Standard",
        "PricingQuantity": usage,
        "PricingUnit": unit,
        "ProviderName": "AWS",
        "PublisherName": _value(row, "line_item_legal_entity"),
        "RegionId": region or _REGION_CODES.get(location or ""),
        "RegionName": location,
        "ResourceId": _value(row, "line_item_resource_id"),
        "ServiceCategory": "Other" if marketplace else "Compute",
        "ServiceName": row["product_product_name"],
        "SkuId": _value(row, "product_sku"),
        "SkuPriceId": _value(row, "pricing_rate_code"),
        "SubAccountId": row["line_item_usage_account_id"],
        **later_columns(row),
    }


def later_columns(row: dict[str, str]) -> dict[str, object]:
    """The FOCUS 1.1-1.2 columns of one on-demand CUR row (CUR 2.0 names)."""
    billing = row["line_item_currency_code"]
    pricing = _value(row, "pricing_currency") or billing
    same = pricing == billing
    status = _value(row, "capacity_reservation_capacity_reservation_status")
    return {
        "SkuMeter": _value(row, "line_item_usage_type"),
        "CapacityReservationId": _value(row, "capacity_reservation_capacity_reservation_arn"),
        "CapacityReservationStatus": status if status in ("Used", "Unused") else None,
        "CommitmentDiscountQuantity": None,
        "CommitmentDiscountUnit": None,
        "PricingCurrency": pricing,
        "PricingCurrencyEffectiveCost": _decimal(row, "line_item_unblended_cost") if same else None,
        "PricingCurrencyListUnitPrice": _decimal(row, "pricing_public_on_demand_rate")
        if same
        else None,
    }
