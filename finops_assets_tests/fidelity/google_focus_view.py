"""Google's FOCUS BigQuery view of the billing export, re-stated in Python for the fidelity test.

Source: Google's "FOCUS (FinOps Open Cost and Usage Specification) BigQuery View" template,
"last updated on March 19, 2024" (Cloud Billing docs), as kept verbatim in
FairwindsOps/insights-plugins @ 9a35fb87ada3d7291da260a0b6e5794f2a756977,
plugins/cloud-costs/gcp-FOCUS-query.sql. Each function below is one SELECT expression of that
view, applied to one row of the detailed usage export as the public CSV files write it. The
view's pricing-export join (ListUnitPrice, ServiceCategory) has no public input here: both are
null, as the view gives them for a SKU missing from the pricing export.
"""

import ast
import datetime as dt
import json
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

LA = ZoneInfo("America/Los_Angeles")
_CUD = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")
_CATEGORY = {
    "regular": "usage",
    "tax": "tax",
    "rounding_error": "adjustment",
    "adjustment": "adjustment",
}
_REGION_NAMES = {
    "africa-south1": "Johannesburg",
    "asia-east1": "Taiwan",
    "asia-east2": "Hong Kong",
    "asia-northeast1": "Tokyo",
    "asia-northeast2": "Osaka",
    "asia-northeast3": "Seoul",
    "asia-southeast1": "Singapore",
    "australia-southeast1": "Sydney",
    "australia-southeast2": "Melbourne",
    "europe-central2": "Warsaw",
    "europe-north1": "Finland",
    "europe-southwest1": "Madrid",
    "europe-west1": "Belgium",
    "europe-west2": "London",
    "europe-west3": "Frankfurt",
    "europe-west4": "Netherlands",
    "europe-west6": "Zurich",
    "europe-west8": "Milan",
    "europe-west9": "Paris",
    "europe-west10": "Berlin",
    "europe-west12": "Turin",
    "asia-south1": "Mumbai",
    "asia-south2": "Delhi",
    "asia-southeast2": "Jakarta",
    "me-central1": "Doha",
    "me-central2": "Dammam",
    "me-west1": "Tel Aviv",
    "northamerica-northeast1": "Montréal",
    "northamerica-northeast2": "Toronto",
    "us-central1": "Iowa",
    "us-east1": "South Carolina",
    "us-east4": "Northern Virginia",
    "us-east5": "Columbus",
    "us-south1": "Dallas",
    "us-west1": "Oregon",
    "us-west2": "Los Angeles",
    "us-west3": "Salt Lake City",
    "us-west4": "Las Vegas",
    "southamerica-east1": "São Paulo",
    "southamerica-west1": "Santiago",
}  # the view's region_names table
_RESOURCE_TYPE = re.compile(
    r"(//)|(googleapis.com/)|(projects/[^/]+/)|(project_commitments/[^/]+/)|(locations/[^/]+/)"
    r"|(regions/[^/]+/)|(zones/[^/]+/)|(global/)|(/[^/]+)"
)


def _blank(value: str | None) -> str | None:
    return None if value is None or value == "" else value


def _list(text: str | None) -> list[dict]:
    """A credits/labels cell: JSON, or the Python repr some export tools write."""
    if not text:
        return []
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return ast.literal_eval(text)


def _month_start(month: str, months_ahead: int = 0) -> dt.date:
    year, mon = int(month[:4]), int(month[4:]) + months_ahead
    year, mon = year + (mon - 1) // 12, (mon - 1) % 12 + 1
    return dt.date(year, mon, 1)


def _la_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=LA).astimezone(dt.UTC)


def _timestamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _resource_type(global_name: str | None) -> str | None:
    if global_name is None:
        return None
    stripped = _RESOURCE_TYPE.sub("", global_name)
    return stripped if global_name.startswith(stripped) else None


def _tags(row: dict[str, str]) -> dict[str, str] | None:
    """labels + system_labels + project.labels (+ tags): the view's key/value array."""
    pairs: dict[str, str] = {}
    for column in ("labels", "system_labels", "project.labels", "tags"):
        for item in _list(row.get(column)):
            pairs[str(item["key"])] = str(item["value"])
    return pairs or None


def focus_row(row: dict[str, str]) -> dict[str, object]:
    """One export row -> the FOCUS columns Google's view gives it (credits folded into costs)."""
    regular = row["cost_type"] == "regular"
    credits = _list(row.get("credits"))
    cud = next((c for c in credits if c.get("type") in _CUD), None)
    cost = Decimal(row["cost"])
    with_credits = cost + sum((Decimal(str(c["amount"])) for c in credits), Decimal(0))
    month = row["invoice.month"]
    sku_desc = row["sku.description"]
    global_name = _blank(row.get("resource.global_name"))
    transaction = _blank(row.get("transaction_type"))
    return {
        "AvailabilityZone": _blank(row.get("location.zone")),
        "BilledCost": with_credits,
        "BillingAccountId": row["billing_account_id"],
        "BillingCurrency": row["currency"],
        "BillingPeriodStart": _la_midnight(_month_start(month)),
        "BillingPeriodEnd": _la_midnight(_month_start(month, 1) - dt.timedelta(days=1)),
        "ChargeCategory": _CATEGORY.get(row["cost_type"].lower(), "error"),
        "ChargeClass": "correction" if _blank(row.get("adjustment_info")) else None,
        "ChargeDescription": sku_desc,
        "ChargePeriodStart": _timestamp(row["usage_start_time"]),
        "ChargePeriodEnd": _timestamp(row["usage_end_time"]),
        "CommitmentDiscountCategory": (
            None if cud is None else {_CUD[0]: "Usage", _CUD[1]: "Spend"}[cud["type"]]
        ),
        "CommitmentDiscountId": _blank(row.get("subscription.instance_id")),
        "CommitmentDiscountName": None if cud is None else cud.get("full_name"),
        "ConsumedQuantity": Decimal(row["usage.amount"]) if regular else None,
        "ConsumedUnit": row["usage.unit"] if regular else None,
        "ContractedCost": cost,
        "ContractedUnitPrice": _decimal(row.get("price.effective_price")),
        "EffectiveCost": with_credits,
        "ListCost": _decimal(row.get("cost_at_list")),
        "ListUnitPrice": None,
        "PricingCategory": (
            ("committed" if sku_desc.lower().startswith("commitment") or cud else "standard")
            if regular
            else None
        ),
        "PricingQuantity": _decimal(row.get("price.pricing_unit_quantity")) if regular else None,
        "PricingUnit": _blank(row.get("price.unit")) if regular else None,
        "ProviderName": "Google Cloud",
        "PublisherName": "Google Cloud"
        if transaction == "GOOGLE"
        else _blank(row.get("seller_name")),
        "RegionId": _blank(row.get("location.region")),
        "RegionName": _REGION_NAMES.get(row.get("location.region") or ""),
        "ResourceId": global_name,
        "ResourceName": _blank(row.get("resource.name")),
        "ResourceType": _resource_type(global_name),
        "ServiceCategory": None,
        "ServiceName": row["service.description"],
        "SkuId": row["sku.id"] if regular else None,
        "SkuPriceId": _sku_price_id(row) if regular else None,
        "SubAccountId": row["billing_account_id"],
        "Tags": _tags(row),
        **LATER_COLUMNS,
    }


# FOCUS 1.1-1.2 columns: the view (FOCUS 1.0-preview, March 2024) selects none of them, so a
# reader of the view gets null in each; our GCP rows leave them null too.
LATER_COLUMNS: dict[str, object] = dict.fromkeys(
    (
        "CapacityReservationId",
        "CapacityReservationStatus",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountUnit",
        "SkuMeter",
        "SkuPriceDetails",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
    )
)


def _decimal(text: str | None) -> Decimal | None:
    return None if _blank(text) is None else Decimal(str(text))


def _sku_price_id(row: dict[str, str]) -> str | None:
    tier = _blank(row.get("price.tier_start_amount"))
    if tier is None:  # CONCAT with a NULL is NULL in BigQuery
        return None
    return (
        f"Billing Account ID:{row['billing_account_id']}, SKU ID: {row['sku.id']}, "
        f"Price Tier Start Amount: {tier}"
    )
