"""Azure export rows -> the FOCUS 1.1-1.2 columns beyond 1.2's core, by Microsoft's own rules.

microsoft/finops-toolkit docs-mslearn/focus/convert.md @ 04d370f:
- CapacityReservationId = AdditionalInfo.VMCapacityReservationId; CapacityReservationStatus
  `Unused` on the capacity reservation resource itself
  (microsoft.compute/capacityreservationgroups/capacityreservations), else `Used`.
- SkuPriceDetails = AdditionalInfo with every property name prefixed `x_` (values as sent).
- CommitmentDiscountQuantity: savings plans (Spend) EffectiveCost / ExchangeRatePricingToBilling
  (1 where the file has none: EA bills in its pricing currency); reservations (Usage)
  PricingQuantity / block size x AdditionalInfo.RINormalizationRatio (1 without it).
- CommitmentDiscountUnit: Spend the PricingCurrency; Usage `Normalized <unit>` where a
  RINormalizationRatio shows instance size flexibility, else the unit. On a reservation
  purchase Microsoft's ConsumedUnit is null; we give the PricingUnit there (FOCUS 1.1 asks a
  unit wherever a quantity is given; README "FOCUS fidelity: Azure").
- PricingCurrency: EA BillingCurrencyCode, MCA PricingCurrency. Microsoft's FOCUS export has no
  PricingCurrency* amount columns; they stay null.
"""

import json
from decimal import Decimal

import polars as pl

from finops_assets.domain.distinct_map import map_distinct
from finops_assets.domain.money import MONEY

CAPACITY_RESERVATION_TYPE = "microsoft.compute/capacityreservationgroups/capacityreservations"


def _json_text(value: object) -> str:
    """JSON text of a parsed value, numbers written exactly as they were read (Decimal, int)."""
    if isinstance(value, dict):
        items = (json.dumps(str(k)) + ":" + _json_text(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)


def _info_object(text: str) -> dict | None:
    try:
        value = json.loads(text, parse_float=Decimal)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def readable_info_expr(column: str) -> pl.Expr:
    """Whether each AdditionalInfo is empty or a JSON object (else the row is quarantined)."""
    values = pl.col(column).str.strip_chars()
    ok = map_distinct(values, lambda t: _info_object(t) is not None, pl.Boolean())
    return (values.is_null() | (values == "") | ok).fill_null(True)


def sku_price_details(info: pl.Series) -> pl.Series:
    """SkuPriceDetails: each AdditionalInfo object with its property names prefixed `x_`."""
    mapping: dict[str, str | None] = {}
    for text in info.drop_nulls().unique().to_list():
        value = _info_object(text)
        mapping[text] = _json_text({f"x_{k}": v for k, v in value.items()}) if value else None
    return info.replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def _info_field(name: str) -> pl.Expr:
    return pl.col("additional_info").str.json_path_match(f"$.{name}").replace("", None)


def capacity_reservation_columns() -> list[pl.Expr]:
    """CapacityReservationId/Status from AdditionalInfo.VMCapacityReservationId."""
    capacity = _info_field("VMCapacityReservationId")
    itself = pl.col("x_resource_type") == CAPACITY_RESERVATION_TYPE
    status = pl.when(itself.fill_null(False)).then(pl.lit("Unused")).otherwise(pl.lit("Used"))
    return [
        capacity.alias("CapacityReservationId"),
        pl.when(capacity.is_not_null()).then(status).alias("CapacityReservationStatus"),
    ]


def commitment_quantity_columns(
    category: pl.Expr, effective: pl.Expr, pricing_quantity: pl.Expr, unit: pl.Expr
) -> list[pl.Expr]:
    """CommitmentDiscountQuantity/Unit for the row's CommitmentDiscountCategory (Spend, Usage)."""
    rate = pl.col("exchange_rate").fill_null(pl.lit(1).cast(MONEY))
    spent = (effective.cast(pl.Decimal(38, 20)) / rate).round(10, mode="half_away_from_zero")
    ratio_text = _info_field("RINormalizationRatio")
    ratio = ratio_text.cast(pl.Decimal(38, 10), strict=False).fill_null(pl.lit(1).cast(MONEY))
    block = pl.col("x_block_size").fill_null(1).cast(pl.Decimal(38, 0))
    used = (pricing_quantity.cast(pl.Decimal(38, 20)) / block * ratio).round(
        10, mode="half_away_from_zero"
    )
    normalized = pl.concat_str(pl.lit("Normalized "), unit)
    return [
        pl.when(category == "Spend")
        .then(spent.cast(MONEY))
        .when(category == "Usage")
        .then(used.cast(MONEY))
        .alias("CommitmentDiscountQuantity"),
        pl.when(category == "Spend")
        .then(pricing_currency_expr())
        .when(category == "Usage")
        .then(pl.when(ratio_text.is_not_null()).then(normalized).otherwise(unit))
        .alias("CommitmentDiscountUnit"),
    ]


def pricing_currency_expr() -> pl.Expr:
    """PricingCurrency: MCA's PricingCurrency, else (EA) the billing currency."""
    return pl.coalesce(pl.col("pricing_currency").replace("", None), pl.col("currency"))
