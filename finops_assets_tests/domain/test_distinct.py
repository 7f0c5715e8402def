"""per_distinct: a text expression evaluated once per distinct value gives the per-row result."""

import random

import polars as pl

from finops_assets.domain.distinct import per_distinct


def _upper_suffix(text: pl.Expr) -> pl.Expr:
    return pl.concat_str(text.str.to_uppercase(), pl.lit("!"))


def test_per_distinct_equals_the_row_by_row_expression_nulls_included():
    rng = random.Random(7)
    values = [rng.choice(["a", "b", "Ünï", "", None, "x y"]) for _ in range(5_000)]
    frame = pl.DataFrame({"t": values}, schema={"t": pl.Utf8})
    fast = frame.select(per_distinct(pl.col("t"), _upper_suffix).alias("t"))
    assert fast.equals(frame.select(_upper_suffix(pl.col("t")).alias("t")))
    assert fast["t"].null_count() == values.count(None)


def test_per_distinct_of_an_all_null_or_empty_column_is_null():
    frame = pl.DataFrame({"t": [None, None]}, schema={"t": pl.Utf8})
    assert frame.select(per_distinct(pl.col("t"), _upper_suffix))["t"].to_list() == [None, None]
    empty = pl.DataFrame({"t": []}, schema={"t": pl.Utf8})
    assert empty.select(per_distinct(pl.col("t"), _upper_suffix)).height == 0
