"""Normalized rows -> a FOCUS 1.2 dataset file (FOCUS columns, then our x_ columns).

Parquet (the default) keeps FOCUS's types as they are: decimals as Decimal(38, 10), never a
float; timestamps as UTC timestamps; ids as strings. The focus-validator reads it faithfully
(measured). CSV is text in the form FOCUS asks for: RFC 3339 UTC with 'Z'
(`2026-10-01T00:00:00Z`), decimals in plain notation without trailing zeros, nulls as empty
fields; a text cell a spreadsheet would run as a formula gets a leading quote (OWASP CSV
injection). The validator re-infers CSV types, so an all-digit id such as an AWS account number
reads back as an integer and fails "BillingAccountId MUST be of type String".
"""

from pathlib import Path

import polars as pl

from finops_assets.domain.focus import FOCUS_COLUMNS, NORMALIZED_COLUMNS, TS

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# A cell a spreadsheet would run as a formula (security.hardening.neutralize_formula's rule).
_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
# The FOCUS 1.2 dataset's columns: the 1.2 ones, then our x_ columns (the model's FOCUS 1.1-1.4
# columns are published in the FOCUS 1.3 dataset, which model 1.2.0.1 does not describe).
FOCUS12_X_COLUMNS: dict[str, pl.DataType] = {
    **FOCUS_COLUMNS,
    **{c: t for c, t in NORMALIZED_COLUMNS.items() if c.startswith("x_")},
}
# Which normalized rows form one provider's dataset: the source and the provider behind it.
DATASET_KEYS = ("x_source", "x_provider")


def decimal_text_expr(column: str) -> pl.Expr:
    """A decimal column as plain text without trailing zeros: 12.3400000000 -> 12.34, 5.0 -> 5."""
    text = pl.col(column).cast(pl.Utf8)
    trimmed = pl.when(text.str.contains(r"\.")).then(text.str.strip_chars_end("0")).otherwise(text)
    return trimmed.str.strip_chars_end(".").alias(column)


def _text_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == TS:
        return pl.col(column).dt.to_string(TIMESTAMP_FORMAT).alias(column)
    if isinstance(dtype, pl.Decimal):
        return decimal_text_expr(column)
    return pl.col(column).cast(pl.Utf8).alias(column)


def focus_dataset(normalized: pl.DataFrame, *, x_columns: bool = True) -> pl.DataFrame:
    """Normalized rows as FOCUS text columns (FOCUS_COLUMNS order, then x_ columns if asked)."""
    columns = dict(FOCUS12_X_COLUMNS) if x_columns else dict(FOCUS_COLUMNS)
    return normalized.select([_text_expr(name, dtype) for name, dtype in columns.items()])


def neutralize_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells starting with =, +, -, @, tab or CR prefixed with a quote; plain numbers kept."""
    text = [c for c, t in frame.schema.items() if t == pl.Utf8]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START) & ~pl.col(c).str.contains(_PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def write_focus_dataset(normalized: pl.DataFrame, path: Path, *, x_columns: bool = True) -> Path:
    """Write normalized rows as a FOCUS dataset at `path`: Parquet, or CSV when it ends in .csv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = dict(FOCUS12_X_COLUMNS) if x_columns else dict(FOCUS_COLUMNS)
    if path.suffix == ".csv":
        dataset = neutralize_formulas(focus_dataset(normalized, x_columns=x_columns))
        dataset.write_csv(path, null_value="")
    else:
        normalized.select(list(columns)).cast(columns).write_parquet(path)  # type: ignore[arg-type]
    return path


def split_by_dataset(normalized: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Normalized rows per provider dataset, named '<x_source>-<x_provider>' (e.g. aws_cur-aws)."""
    parts = normalized.partition_by(list(DATASET_KEYS), as_dict=True, maintain_order=True)
    return {f"{source}-{provider}": frame for (source, provider), frame in sorted(parts.items())}
