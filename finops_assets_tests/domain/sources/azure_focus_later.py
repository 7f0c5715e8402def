"""Microsoft's conversion of an Azure cost export row to the FOCUS 1.1-1.2 columns beyond 1.2's core.

Re-stated independently of the product (csv rows, Python Decimal) from the toolkit's rule table
docs-mslearn/focus/convert.md @ 04d370f (copy: public_data/finops-toolkit/docs/focus-convert.md):
- CapacityReservationId = AdditionalInfo.VMCapacityReservationId; CapacityReservationStatus null
  without it, `Unused` on a capacity reservation resource, else `Used`;
- SkuPriceDetails = AdditionalInfo with every property name prefixed `x_`;
- CommitmentDiscountQuantity: Spend commitments EffectiveCost / x_BillingExchangeRate
  (ExchangeRatePricingToBilling; EA files have none, EA bills in its pricing currency: 1),
  Usage commitments (PricingQuantity / x_PricingBlockSize) x the normalized ratio
  (AdditionalInfo.RINormalizationRatio, 1 without it), otherwise null;
- CommitmentDiscountUnit: Spend PricingCurrency; Usage `Normalized <ConsumedUnit>` where the SKU
  uses instance size flexibility (a RINormalizationRatio is stated), else ConsumedUnit;
- PricingCurrency: EA BillingCurrencyCode, MCA PricingCurrency.
Microsoft's FOCUS 1.2 export (dataset-metadata/FocusCost_1.2-preview.json) has no
PricingCurrencyContractedUnitPrice/EffectiveCost/ListUnitPrice columns: null.
"""

import json
from decimal import Decimal

CAPACITY_RESERVATION_TYPE = "microsoft.compute/capacityreservationgroups/capacityreservations"


def additional_info(r: dict[str, str]) -> dict[str, object]:
    """The row's AdditionalInfo object (numbers as Decimal), {} when empty."""
    text = r.get("additionalinfo") or ""
    return json.loads(text, parse_float=Decimal) if text else {}


def later_columns(
    r: dict[str, str],
    *,
    rtype: str,
    effective: Decimal,
    pricing_quantity: Decimal,
    block: Decimal,
    consumed_unit: str | None,
    category: str | None,
    is_ea: bool,
) -> dict[str, object]:
    """Microsoft's values of the FOCUS 1.1-1.2 columns for one export row."""
    info = additional_info(r)
    capacity = info.get("VMCapacityReservationId") or None
    ratio = info.get("RINormalizationRatio")
    pricing_currency = (
        r.get("billingcurrencycode") or r.get("billingcurrency")
        if is_ea
        else r.get("pricingcurrency")
    )
    rate = (
        Decimal(r["exchangeratepricingtobilling"]) if r.get("exchangeratepricingtobilling") else 1
    )
    if category == "Spend":
        quantity, unit = effective / rate, pricing_currency
    elif category == "Usage":
        quantity = pricing_quantity / block * Decimal(str(ratio if ratio is not None else 1))
        unit = f"Normalized {consumed_unit}" if ratio is not None else consumed_unit
    else:
        quantity, unit = None, None
    return {
        "CapacityReservationId": capacity,
        "CapacityReservationStatus": None
        if capacity is None
        else ("Unused" if rtype == CAPACITY_RESERVATION_TYPE else "Used"),
        "CommitmentDiscountQuantity": quantity,
        "CommitmentDiscountUnit": unit,
        "SkuPriceDetails": {f"x_{k}": v for k, v in info.items()} or None,
        "PricingCurrency": pricing_currency or None,
        "PricingCurrencyContractedUnitPrice": None,
        "PricingCurrencyEffectiveCost": None,
        "PricingCurrencyListUnitPrice": None,
    }
