"""Exact, vectorized largest-remainder splits of money columns over allocation parts.

Each source row is expanded into parts (one per business unit) that carry an integer weight
`_w` out of SHARE_UNITS (the part's share at scale 18). For every money column the row's amount,
in integer units of its scale, is floored per part (weight * units // SHARE_UNITS), and the
leftover units go one each to the largest remainders, ties to the earlier part (the parts are
ordered by business unit name). This gives the same result as money.split_largest_remainder.
"""

from decimal import Decimal

import polars as pl

from finops_assets.domain.money import MONEY, MONEY_SCALE

SHARE_SCALE = 18
SHARE_UNITS = 10**SHARE_SCALE
SHARE = pl.Decimal(38, SHARE_SCALE)
_MAX_PARTS = 1024  # parts per source row; enough for any number of business units
_INT = pl.Int128


def money_units_expr(column: str) -> pl.Expr:
    """A MONEY column as Int128 units of 10**-MONEY_SCALE (exact)."""
    return pl.col(column).cast(MONEY).to_physical().cast(_INT)


def units_to_money_expr(units: pl.Expr) -> pl.Expr:
    """Int128 units of 10**-MONEY_SCALE back to MONEY (exact)."""
    # Whole and fractional parts separately: Polars rescales before multiplying, which would
    # overflow for large amounts if the units were scaled down in one product.
    scale = pl.lit(10**MONEY_SCALE, _INT)
    whole = (units // scale).cast(MONEY)
    fraction = (units % scale).cast(pl.Decimal(38, 0)) * pl.lit(Decimal(1).scaleb(-MONEY_SCALE))
    return (whole + fraction).cast(MONEY)


def _row_sum(value: str, span: int) -> pl.Expr:
    """Sum of `value` over the parts of the same key (neighbours within `span` rows)."""
    total = pl.col(value)
    for d in range(1, span):
        total = total + pl.when(pl.col(f"_prev{d}")).then(pl.col(value).shift(d)).otherwise(0)
        total = total + pl.when(pl.col(f"_next{d}")).then(pl.col(value).shift(-d)).otherwise(0)
    return total


def _rank_desc(value: str, span: int) -> pl.Expr:
    """1 + how many parts of the same key have a larger `value` (values unique within a key)."""
    rank = pl.lit(1, _INT)
    for d in range(1, span):
        rank = rank + (pl.col(f"_prev{d}") & (pl.col(value).shift(d) > pl.col(value))).cast(_INT)
        rank = rank + (pl.col(f"_next{d}") & (pl.col(value).shift(-d) > pl.col(value))).cast(_INT)
    return rank


def _split_one(frame: pl.DataFrame, column: str, unit_size: pl.Expr, span: int) -> pl.DataFrame:
    """Replace `column` by its part for each part row (rows sorted by key, then part).

    Row-wise sums and ranks look at the `span - 1` neighbours on each side (a key has at most
    `span` parts), which is much faster than window functions over millions of keys.
    """
    scale_total = pl.lit(SHARE_UNITS, _INT)
    weight = pl.col("_w").cast(_INT)
    frame = frame.with_columns(
        money_units_expr(column).alias("_raw"), unit_size.cast(_INT).alias("_size")
    ).with_columns((pl.col("_raw").abs() // pl.col("_size")).alias("_mag"))
    frame = frame.with_columns(
        (pl.col("_mag") // scale_total).alias("_q"), (pl.col("_mag") % scale_total).alias("_r")
    ).with_columns(
        (pl.col("_q") * weight + (pl.col("_r") * weight) // scale_total).alias("_floor"),
        ((pl.col("_r") * weight) % scale_total).alias("_frac"),
    )
    frame = frame.with_columns(
        (pl.col("_mag") - _row_sum("_floor", span)).alias("_left"),
        (pl.col("_frac") * _MAX_PARTS + (_MAX_PARTS - 1 - pl.col("_pos"))).alias("_order"),
    ).with_columns(_rank_desc("_order", span).alias("_rank"))
    part = pl.col("_floor") + (pl.col("_rank") <= pl.col("_left")).cast(_INT)
    signed = pl.when(pl.col("_raw") < 0).then(pl.lit(0, _INT) - part).otherwise(part)
    return frame.with_columns(units_to_money_expr(signed * pl.col("_size")).alias(column)).drop(
        "_raw", "_size", "_mag", "_q", "_r", "_floor", "_frac", "_left", "_order", "_rank"
    )


def check_multiple_of_unit(frame: pl.DataFrame, column: str, unit_size: pl.Expr) -> None:
    """Raise ValueError if some amount of `column` is not a whole number of its unit."""
    bad = frame.filter((money_units_expr(column).abs() % unit_size.cast(_INT)) != 0)
    if bad.height:
        example = bad.select(column).row(0)[0]
        raise ValueError(
            f"{column}: {bad.height} amount(s) are not multiples of their currency's minor unit "
            f"(e.g. {example}); round them in normalization first"
        )


def split_parts(parts: pl.DataFrame, key: str, money: dict[str, pl.Expr]) -> pl.DataFrame:
    """Replace each money column of `parts` by its exact share per part.

    `parts` must be sorted by (key, business unit) and hold `_w` (Int128 weight out of
    SHARE_UNITS, summing to SHARE_UNITS within each key); `money` maps each money column to an
    expression of its unit size in units of 10**-MONEY_SCALE (1 for scale 10, 10**8 for cents).
    """
    if parts.is_empty():
        return parts
    counts = parts.group_by(key).agg(pl.len().alias("n"), pl.col("_w").cast(_INT).sum().alias("w"))
    if counts.filter(pl.col("w") != SHARE_UNITS).height:
        raise ValueError("the parts' weights of a row must sum to SHARE_UNITS")
    span = int(counts["n"].max() or 1)  # type: ignore[arg-type]
    if span >= _MAX_PARTS:
        raise ValueError(f"a row has {span} parts; at most {_MAX_PARTS - 1} are supported")
    for column, unit_size in money.items():
        check_multiple_of_unit(parts, column, unit_size)
    neighbours = [
        (pl.col(key).shift(d * sign) == pl.col(key)).fill_null(False).alias(f"_{name}{d}")
        for d in range(1, span)
        for sign, name in ((1, "prev"), (-1, "next"))
    ]
    parts = parts.with_columns(neighbours)
    parts = parts.with_columns(
        sum((pl.col(f"_prev{d}").cast(_INT) for d in range(1, span)), pl.lit(0, _INT)).alias("_pos")
    )
    for column, unit_size in money.items():
        parts = _split_one(parts, column, unit_size, span)
    return parts.drop([c for c in parts.columns if c.startswith(("_prev", "_next", "_pos"))])
