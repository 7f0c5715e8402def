"""The finance-facing cost table: allocated cost summed per day, provider, unit and category."""

import polars as pl

from finops_assets.domain.money import MONEY

COST_BY_UNIT_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_provider": pl.Utf8(),
    "x_business_unit": pl.Utf8(),
    "ServiceCategory": pl.Utf8(),
    "ChargeCategory": pl.Utf8(),
    "x_base_currency": pl.Utf8(),
    "x_billed_cost_base": MONEY,
    "x_effective_cost_base": MONEY,
    "x_source_rows": pl.Int64(),
}
_KEYS = [
    "x_charge_date",
    "x_provider",
    "x_business_unit",
    "ServiceCategory",
    "ChargeCategory",
    "x_base_currency",
]


def cost_by_business_unit(allocated: pl.DataFrame) -> pl.DataFrame:
    """Sum allocated base-currency cost per day, provider, business unit and category."""
    return (
        allocated.group_by(_KEYS)
        .agg(
            pl.col("x_billed_cost_base").sum().cast(MONEY),
            pl.col("x_effective_cost_base").sum().cast(MONEY),
            pl.col("x_source_row_key").n_unique().cast(pl.Int64).alias("x_source_rows"),
        )
        .with_columns(pl.col("ServiceCategory").fill_null("Other"))
        .sort(_KEYS)
        .select(list(COST_BY_UNIT_COLUMNS))
    )


def totals_match(allocated: pl.DataFrame, report: pl.DataFrame) -> list[dict]:
    """Per day and currency, the report's billed and effective totals against allocated_costs."""
    keys = ["x_charge_date", "x_base_currency"]
    money = ["x_billed_cost_base", "x_effective_cost_base"]
    left = allocated.group_by(keys).agg([pl.col(m).sum().alias(m) for m in money])
    right = report.group_by(keys).agg([pl.col(m).sum().alias(f"{m}_report") for m in money])
    joined = left.join(right, on=keys, how="full", coalesce=True)
    mismatched = joined.filter(
        (pl.col("x_billed_cost_base") != pl.col("x_billed_cost_base_report"))
        | (pl.col("x_effective_cost_base") != pl.col("x_effective_cost_base_report"))
        | pl.any_horizontal(pl.all().is_null())
    )
    return [{k: str(v) for k, v in row.items()} for row in mismatched.to_dicts()]
