"""Unknown columns of an export file, kept per row as one JSON object (additive schema evolution).

A provider adds a column to its export: the typed raw table keeps it in `x_extra_columns`, a JSON
object text of the row's unknown columns under their original names with text values (nested
values as JSON text, null cells as null), instead of failing or dropping it. The column is null
when the file has no unknown column. Built with one vectorized struct encode, never per row.
"""

from collections.abc import Mapping, Sequence

import polars as pl

EXTRA_COLUMN = "x_extra_columns"
EXTRA_COLUMNS: dict[str, pl.DataType] = {EXTRA_COLUMN: pl.Utf8()}


def extra_columns_expr(schema: Mapping[str, pl.DataType], unknown: Sequence[str]) -> pl.Expr:
    """The `x_extra_columns` expression over the `unknown` columns of a frame with `schema`."""
    if not unknown:
        return pl.lit(None, pl.Utf8).alias(EXTRA_COLUMN)
    values = [_text_expr(pl.col(name), schema[name]).alias(name) for name in unknown]
    return pl.struct(values).struct.json_encode().alias(EXTRA_COLUMN)


def _text_expr(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A cell as text: times in ISO 8601 (UTC with 'Z' when zoned), nested values as JSON."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return expr.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
        return expr.dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")
    if isinstance(dtype, pl.Struct):
        return pl.when(expr.is_not_null()).then(expr.struct.json_encode())
    if isinstance(dtype, pl.List | pl.Array):
        wrapped = pl.struct(expr.alias("v")).struct.json_encode()
        return pl.when(expr.is_not_null()).then(wrapped.str.slice(5).str.strip_suffix("}"))
    if isinstance(dtype, pl.Binary):
        return expr.bin.encode("base64")
    return expr.cast(pl.Utf8)
