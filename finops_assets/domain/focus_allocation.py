"""The allocation as a FOCUS 1.3 split cost allocation dataset (focus_cost_allocation).

Every part of allocated_costs becomes one split row: the origin charge's FOCUS columns exactly as
normalized_costs holds them (Tags included), except the summable metrics, which are the part's
share of the origin's, plus FOCUS 1.3's allocation columns:

- AllocatedMethodId: the rule that split the charge (tag:<key>, a hierarchy or shared rule id),
  or the method (unallocated) when no rule did;
- AllocatedMethodDetails: JSON `{"Elements": [{"AllocatedRatio": r}], "x_Method": ...,
  "x_Driver": ..., "x_RuleVersion": ...}`; per origin the ratios sum to exactly 1;
- AllocatedResourceId / AllocatedResourceName: the business unit that carries the part
  (`business-unit/<unit>` and its name), null on the unallocated remainder;
- AllocatedTags: `{"x_BusinessUnit": unit}` (a key no Tags object can hold: FOCUS Tags keys of
  providers never start with x_ and ours are normalized without it; the contract checks it).

BilledCost and EffectiveCost are allocated_costs' exact parts; ListCost, ContractedCost,
ConsumedQuantity and PricingQuantity are split by the same ratios with allocate_split's exact
method, so each summable metric of an origin's split rows sums to the origin's to the last digit.
"""

import polars as pl

from finops_assets.domain.allocate_split import SHARE_SCALE, split_parts
from finops_assets.domain.focus import FOCUS_COLUMNS, FOCUS_LATER_COLUMNS, with_later_columns
from finops_assets.domain.rules import UNALLOCATED

SUMMABLE_METRICS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ConsumedQuantity",
    "PricingQuantity",
    "CommitmentDiscountQuantity",
    "PricingCurrencyEffectiveCost",
)
# The origin charge's FOCUS columns: 1.2's, then the model's FOCUS 1.1-1.4 columns.
ORIGIN_FOCUS_COLUMNS: dict[str, pl.DataType] = {**FOCUS_COLUMNS, **FOCUS_LATER_COLUMNS}
ALLOCATED_FOCUS_COLUMNS: dict[str, pl.DataType] = {
    "AllocatedMethodId": pl.Utf8(),
    "AllocatedMethodDetails": pl.Utf8(),
    "AllocatedResourceId": pl.Utf8(),
    "AllocatedResourceName": pl.Utf8(),
    "AllocatedTags": pl.Utf8(),
}
SPLIT_X_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_source_row_key": pl.Utf8(),  # the origin charge
    "x_allocation_row_key": pl.Utf8(),  # the split row
    "x_allocation_ratio": pl.Decimal(38, SHARE_SCALE),
}
SPLIT_COLUMNS: dict[str, pl.DataType] = {
    **ORIGIN_FOCUS_COLUMNS,
    **ALLOCATED_FOCUS_COLUMNS,
    **SPLIT_X_COLUMNS,
}
BUSINESS_UNIT_TAG = "x_BusinessUnit"
_SPLIT_BY_RATIO = tuple(m for m in SUMMABLE_METRICS if m not in ("BilledCost", "EffectiveCost"))


# The allocated_costs columns a split row is made of (focus_cost_allocation reads only these).
PART_COLUMNS = (
    "x_source_row_key",
    "x_allocation_row_key",
    "x_business_unit",
    "x_charge_date",
    "BilledCost",
    "EffectiveCost",
    "x_allocation_share",
    "x_allocation_method",
    "x_allocation_driver",
    "x_allocation_rule_version",
    "AllocatedMethodId",
)


class AllocationOriginError(ValueError):
    """An allocated part whose origin charge is not in normalized_costs."""


def raise_on_orphans(parts: pl.DataFrame) -> None:
    """AllocationOriginError when a part joined to its origin found none (no ChargeCategory)."""
    orphans = parts.filter(pl.col("ChargeCategory").is_null())["x_source_row_key"]
    if orphans.len():
        raise AllocationOriginError(
            f"{orphans.len()} allocated parts have no origin in normalized_costs, "
            f"e.g. x_source_row_key={orphans[0]!r}"
        )


def _details() -> pl.Expr:
    """AllocatedMethodDetails: the part's ratio as Elements[0].AllocatedRatio, lineage as x_."""

    def text(column: str) -> pl.Expr:
        return pl.col(column).fill_null("").str.replace_all(r"[\\\"]", "")

    return pl.concat_str(
        pl.lit('{"Elements":[{"AllocatedRatio":'),
        pl.col("x_allocation_share").cast(pl.Utf8),
        pl.lit('}],"x_Method":"'),
        text("x_allocation_method"),
        pl.lit('","x_Driver":"'),
        text("x_allocation_driver"),
        pl.lit('","x_RuleVersion":"'),
        text("x_allocation_rule_version"),
        pl.lit('"}'),
    )


def _allocated_columns() -> list[pl.Expr]:
    unit = pl.col("x_business_unit")
    allocated = unit != UNALLOCATED
    return [
        pl.coalesce("AllocatedMethodId", "x_allocation_method").alias("AllocatedMethodId"),
        _details().alias("AllocatedMethodDetails"),
        pl.when(allocated).then(pl.lit("business-unit/") + unit).alias("AllocatedResourceId"),
        pl.when(allocated).then(unit).alias("AllocatedResourceName"),
        pl.concat_str(
            pl.lit(f'{{"{BUSINESS_UNIT_TAG}":"'), unit.str.replace_all(r"[\\\"]", ""), pl.lit('"}')
        ).alias("AllocatedTags"),
    ]


def split_by_ratio(parts: pl.DataFrame) -> pl.DataFrame:
    """ListCost, ContractedCost, the quantities and PricingCurrencyEffectiveCost of `parts` split
    exactly by their ratios."""
    nulls = [pl.col(c).is_null().alias(f"_null_{c}") for c in _SPLIT_BY_RATIO]
    parts = parts.with_columns(nulls).with_columns(pl.col(c).fill_null(0) for c in _SPLIT_BY_RATIO)
    weights = (pl.col("x_allocation_share").cast(pl.Utf8).str.replace(".", "", literal=True)).cast(
        pl.Int128
    )
    parts = parts.sort("x_source_row_key", "x_business_unit").with_columns(_w=weights)
    parts = split_parts(parts, "x_source_row_key", {c: pl.lit(1) for c in _SPLIT_BY_RATIO})
    return parts.with_columns(
        pl.when(pl.col(f"_null_{c}")).then(None).otherwise(pl.col(c)).alias(c)
        for c in _SPLIT_BY_RATIO
    )


def focus_split_rows(normalized: pl.DataFrame, allocated: pl.DataFrame) -> pl.DataFrame:
    """allocated_costs parts of a day as FOCUS 1.3 split rows (SPLIT_COLUMNS), origin order.

    Raises AllocationOriginError when a part's origin charge is not among `normalized`.
    """
    origin_columns = [c for c in ORIGIN_FOCUS_COLUMNS if c not in ("BilledCost", "EffectiveCost")]
    origins = with_later_columns(normalized).select("x_source_row_key", *origin_columns)
    parts = allocated.select(list(PART_COLUMNS)).join(
        origins, on="x_source_row_key", how="left", validate="m:1"
    )
    raise_on_orphans(parts)
    parts = split_by_ratio(parts).with_columns(_allocated_columns())
    return parts.select(
        [pl.col(c).cast(t) for c, t in SPLIT_COLUMNS.items() if c != "x_allocation_ratio"]
        + [
            pl.col("x_allocation_share")
            .cast(SPLIT_COLUMNS["x_allocation_ratio"])
            .alias("x_allocation_ratio")
        ]
    )
