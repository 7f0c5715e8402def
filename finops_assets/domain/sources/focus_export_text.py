"""A FOCUS export's blank values and its Tags column: what reads as missing, and Tags as
canonical JSON object text (focus_export.py)."""

import json
from decimal import Decimal

import polars as pl

BLANKS = ("", "NULL", "null")


def blank_expr(column: str) -> pl.Expr:
    """True where the text is null or one of BLANKS."""
    return pl.col(column).is_null() | pl.col(column).is_in(BLANKS)


def null_if_blank(column: str) -> pl.Expr:
    """The column with its blanks as null."""
    return pl.when(blank_expr(column)).then(None).otherwise(pl.col(column)).alias(column)


def canonical_tags(tags: pl.Series) -> pl.Series:
    """Tags text -> canonical JSON object text (sorted keys); NULL/empty -> null.

    Parsed once per distinct value, so the cost follows the tag cardinality, not the row count.
    """
    cleaned = tags.cast(pl.Utf8).to_frame("t").select(null_if_blank("t")).to_series()
    distinct = cleaned.drop_nulls().unique().to_list()
    mapping = {value: _canonical_tag_text(value) for value in distinct}
    return cleaned.replace_strict(mapping, default=None, return_dtype=pl.Utf8).alias(tags.name)


def _canonical_tag_text(value: str) -> str | None:
    parsed = _tag_object(value)
    if parsed is None:
        return None
    return json.dumps(
        parsed, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def _tag_object(value: str) -> dict | None:
    """A Tags value as a dict, or None when it is not a JSON object (or a key/value list)."""
    try:
        parsed = json.loads(value, parse_float=Decimal)
    except ValueError:
        return None
    if isinstance(parsed, list) and all(isinstance(p, dict) and "key" in p for p in parsed):
        parsed = {str(p["key"]): p.get("value") for p in parsed}
    return parsed if isinstance(parsed, dict) else None


def tags_problem_expr(tags: pl.Series) -> pl.Expr:
    """True where Tags has a value that is not a JSON object."""
    blank = tags.to_frame("t").select(blank_expr("t")).to_series()
    canonical = canonical_tags(tags)
    return pl.lit((~blank & canonical.is_null()).alias("__tags_problem"))
