"""Pipeline KPIs over allocated cost: how much is allocated by which method, and cost per unit.

Costs are effective (amortized) cost in the base currency, x_effective_cost_base.
"""

from decimal import Decimal

import polars as pl

from finops_assets.domain.money import MONEY, quantize_half_up, split_largest_remainder

ALLOCATION_METHODS = ("tag", "hierarchy", "proportional", "unallocated")
SHARE = pl.Decimal(38, 6)
SHARE_SCALE = 6

ALLOCATION_COVERAGE_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "method": pl.Utf8(),
    "cost_base": MONEY,
    "share": SHARE,  # of the day's total cost; the day's shares add up to exactly 1
}

COST_BY_BUSINESS_UNIT_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_business_unit": pl.Utf8(),
    "x_provider": pl.Utf8(),
    "cost_base": MONEY,
}


def allocation_coverage(allocated: pl.DataFrame) -> pl.DataFrame:
    """Per day and allocation method: cost and share of the day's cost (every method listed).

    A null method counts as "unknown". Shares are Decimal at 6 places. When every method's cost is >= 0 and the day's total is
    positive they are split by largest remainder, so a day's shares add up to exactly 1; otherwise
    (credits outweighing charges) each is the half-up rounded ratio, or null for a zero total.
    """
    sums = (
        allocated.with_columns(pl.col("x_allocation_method").fill_null("unknown"))
        .group_by("x_charge_date", "x_allocation_method")
        .agg(pl.col("x_effective_cost_base").cast(MONEY).sum())
        .rows()
    )
    costs: dict[tuple, Decimal] = {(d, m): Decimal(v) for d, m, v in sums}
    extra = sorted({m for _, m in costs} - set(ALLOCATION_METHODS))
    methods = [*ALLOCATION_METHODS, *extra]
    rows: list[tuple[object, ...]] = []
    for day in sorted({d for d, _ in costs}):
        day_costs = [costs.get((day, method), Decimal(0)) for method in methods]
        shares = _shares(day_costs)
        rows.extend(zip([day] * len(methods), methods, day_costs, shares, strict=True))
    return pl.DataFrame(rows, schema=ALLOCATION_COVERAGE_COLUMNS, orient="row")


def _shares(costs: list[Decimal]) -> list[Decimal | None]:
    total = sum(costs, Decimal(0))
    if total > 0 and all(cost >= 0 for cost in costs):
        return list(split_largest_remainder(Decimal(1), costs, SHARE_SCALE))
    if total == 0:
        return [None] * len(costs)
    return [quantize_half_up(cost / total, SHARE_SCALE) for cost in costs]


def cost_by_business_unit(allocated: pl.DataFrame) -> pl.DataFrame:
    """Per day, business unit and provider: the effective cost in the base currency."""
    return (
        allocated.group_by("x_charge_date", "x_business_unit", "x_provider")
        .agg(pl.col("x_effective_cost_base").cast(MONEY).sum().alias("cost_base"))
        .sort("x_charge_date", "x_business_unit", "x_provider", nulls_last=True)
        .select(pl.col(name).cast(dtype) for name, dtype in COST_BY_BUSINESS_UNIT_COLUMNS.items())
    )
