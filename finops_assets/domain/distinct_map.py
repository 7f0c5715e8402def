"""Python functions applied once per distinct value of a column, not once per row.

A check that needs Python (json.loads, an exact Decimal, a currency table) gives the same verdict
for equal values, so it is computed on the column's distinct values and joined back: a day of
1.4M rows holding a few thousand distinct values costs a few thousand calls. Nulls stay null
(as `map_elements`, which skips them), and the function is called exactly as `map_elements` calls
it, so the verdicts are the same.
"""

from collections.abc import Callable
from typing import Any

import polars as pl


def map_distinct_series(
    values: pl.Series, function: Callable[[Any], Any], return_dtype: pl.DataType
) -> pl.Series:
    """`values.map_elements(function)` computed on the distinct non-null values only."""
    distinct = values.drop_nulls().unique()
    verdicts = distinct.map_elements(function, return_dtype=return_dtype, skip_nulls=False)
    table = pl.DataFrame({"_value": distinct, "_verdict": verdicts})
    joined = values.to_frame("_value").join(table, on="_value", how="left", maintain_order="left")
    return joined["_verdict"].alias(values.name)


def map_distinct(
    column: pl.Expr, function: Callable[[Any], Any], return_dtype: pl.DataType
) -> pl.Expr:
    """`column.map_elements(function)` as an expression computed per distinct value."""
    return column.map_batches(
        lambda values: map_distinct_series(values, function, return_dtype),
        return_dtype=return_dtype,
    )
