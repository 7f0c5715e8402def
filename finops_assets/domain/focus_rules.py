"""FOCUS 1.2 rules every source's rows get in normalization: units, and what must be null.

Sources map what their provider says; these rules make the combinations FOCUS forbids
impossible, in one vectorized pass over all sources (the FOCUS spec's nullability sections):
- Tax rows carry no SKU, price, pricing quantity or pricing category.
- ConsumedQuantity/ConsumedUnit only on Usage rows that are not unused commitment.
- A unit without its quantity, a type or name without its id, is null.
"""

import polars as pl

from finops_assets.domain.units import focus_unit_expr

_TAX_NULL = (
    "ListUnitPrice",
    "ContractedUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "PricingCategory",
    "SkuId",
    "SkuPriceId",
)
# column -> the id column it describes (null when the id is null).
_NEEDS_ID = {
    "BillingAccountType": "BillingAccountId",
    "SubAccountType": "SubAccountId",
    "SubAccountName": "SubAccountId",
    "RegionName": "RegionId",
    "ResourceType": "ResourceId",
    "ResourceName": "ResourceId",
}


def _null_when(condition: pl.Expr, column: str) -> pl.Expr:
    dtype_keeping = pl.when(condition).then(None).otherwise(pl.col(column))
    return dtype_keeping.alias(column)


def apply_focus_rules(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows with FOCUS units and FOCUS nullability; amounts and identities are never changed."""
    is_tax = pl.col("ChargeCategory") == "Tax"
    unused = pl.col("CommitmentDiscountStatus").fill_null("") == "Unused"
    not_consumed = (pl.col("ChargeCategory") != "Usage") | unused
    step1 = rows.with_columns(
        *[_null_when(is_tax, c) for c in _TAX_NULL if c != "PricingUnit"],
        PricingUnit=pl.when(is_tax).then(None).otherwise(focus_unit_expr(pl.col("PricingUnit"))),
        ConsumedUnit=focus_unit_expr(pl.col("ConsumedUnit")),
        ConsumedQuantity=pl.when(not_consumed).then(None).otherwise(pl.col("ConsumedQuantity")),
    )
    return step1.with_columns(
        _null_when(pl.col("PricingQuantity").is_null(), "PricingUnit"),
        _null_when(pl.col("ConsumedQuantity").is_null(), "ConsumedUnit"),
        *[_null_when(pl.col(id_column).is_null(), c) for c, id_column in _NEEDS_ID.items()],
    )
