"""FOCUS exports (1.0 to 1.4) from any provider, CSV (optionally gzipped) or Parquet.

The provider is per row (ProviderName or ServiceProviderName), so PROVIDER is only a label.
Every value is read as text, then typed: money with parse_money_expr, timestamps to UTC.
"""

import datetime as dt
import io
import json
from collections.abc import Callable
from functools import partial

import polars as pl

from finops_assets.domain import focus
from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources import common
from finops_assets.domain.sources.dates import parse_timestamp_text_expr
from finops_assets.domain.sources.extra_columns import EXTRA_COLUMNS, extra_columns_expr
from finops_assets.domain.sources.focus_entities import (
    provider_from_entities_expr,
    provider_slug_expr,
)
from finops_assets.domain.sources.focus_export_text import (
    blank_expr,
    canonical_tags,
    null_if_blank,
    tags_problem_expr,
)
from finops_assets.security.hardening import GzipBombError, bounded_gunzip

SOURCE = "focus_export"
PROVIDER = "multi"  # a label for ingestion keys; x_provider comes from each row's ProviderName

# The model's FOCUS columns of every version (1.2 core, then 1.1-1.4 additions), typed in the
# raw table; any other column of the file is kept in x_extra_columns.
FOCUS_RAW_COLUMNS: dict[str, pl.DataType] = {**focus.FOCUS_COLUMNS, **focus.FOCUS_LATER_COLUMNS}
RAW_COLUMNS: dict[str, pl.DataType] = {
    **FOCUS_RAW_COLUMNS,
    **EXTRA_COLUMNS,  # unknown columns of the file (x_ custom ones too), as JSON object text
    **common.INGEST_METADATA_COLUMNS,
}

# The FOCUS money columns a raw FOCUS row carries under their own names (quarantine limits).
RAW_MONEY_COLUMNS = {c: c for c in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")}
RAW_CURRENCY_COLUMN = "BillingCurrency"
_TIMESTAMPS = tuple(c for c, t in FOCUS_RAW_COLUMNS.items() if t == focus.TS)
_AMOUNTS = tuple(c for c, t in FOCUS_RAW_COLUMNS.items() if t == MONEY)
_REQUIRED_AMOUNTS = ("BilledCost", "EffectiveCost")
_REQUIRED_TEXT = ("BillingCurrency",)
_REQUIRED_HEADERS = (*_REQUIRED_AMOUNTS, *_TIMESTAMPS, *_REQUIRED_TEXT)
_PROVIDER_HEADERS = ("ProviderName", "ServiceProviderName")

# Allowed values of FOCUS enumerations, for case-insensitive repair ('Usage-based').
_CANONICAL_VALUES = {
    "ChargeCategory": focus.CHARGE_CATEGORIES,
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "CommitmentDiscountCategory": ("Spend", "Usage"),
    "CommitmentDiscountStatus": ("Used", "Unused"),
    "CapacityReservationStatus": ("Used", "Unused"),
}


def parse(
    data: bytes,
    *,
    source_file: str,
    ingestion_key: str,
    fetched_at: dt.datetime,
    max_inflated_bytes: int = common.MAX_INFLATED_BYTES,
) -> common.ParseResult:
    """One FOCUS export file -> typed raw rows and quarantined rows (file, line, column, reason).

    A gzipped CSV that inflates past `max_inflated_bytes` is refused (a gzip bomb).
    """
    text, first_line = _read_text_frame(data, source_file, max_inflated_bytes)
    common.refuse_duplicate_columns(text.columns, source_file)
    _check_headers(text.columns, source_file)
    if text.is_empty():
        return common.ParseResult(pl.DataFrame(schema=RAW_COLUMNS), common.empty_quarantine())
    original = text.columns
    unknown = [c for c in original if c not in FOCUS_RAW_COLUMNS]
    text = text.with_row_index("__line", offset=first_line).with_columns(
        pl.col("__line").cast(pl.Int64),
        *[pl.lit(None, pl.Utf8).alias(c) for c in _missing(text)],
        extra_columns_expr(text.schema, unknown).alias("__extra"),
    )
    typed = text.with_columns(
        *[_map_distinct(text[c], _parse_timestamp_expr, focus.TS, f"__t_{c}") for c in _TIMESTAMPS],
        *[parse_money_expr(c).alias(f"__t_{c}") for c in _AMOUNTS],
        tags_problem_expr(text["Tags"]).alias("__tags_problem"),
    ).with_columns(
        _problem_expr().alias("__problem"),
        pl.col("__t_ChargePeriodStart").dt.date().alias("x_charge_date"),
        pl.lit(ingestion_key).alias("x_ingestion_key"),
        pl.lit(source_file).alias("x_source_file"),
        pl.col("__line").alias("x_source_line"),
        pl.lit(fetched_at).cast(pl.Datetime("us", "UTC")).alias("x_fetched_at"),
    )
    good = typed.filter(pl.col("__problem").is_null())
    rows = good.select(
        *[pl.col(f"__t_{c}").alias(c) for c in (*_TIMESTAMPS, *_AMOUNTS)],
        *[pl.col(c) for c, t in FOCUS_RAW_COLUMNS.items() if t == pl.Utf8()],
        pl.col("__extra").alias("x_extra_columns"),
        *common.INGEST_METADATA_COLUMNS,
    ).select([pl.col(c).cast(t) for c, t in RAW_COLUMNS.items()])
    return common.ParseResult(rows, _quarantine(typed, original, rows))


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw FOCUS rows -> exactly SOURCE_FOCUS_COLUMNS: nulls made null, casing and Tags canonical.

    FOCUS 1.2 never leaves ContractedCost or ListCost null; older exports do on tax and credit
    rows, where both equal BilledCost.
    """
    strings = [c for c, t in FOCUS_RAW_COLUMNS.items() if t == pl.Utf8()]
    cleaned = raw.with_columns(*[null_if_blank(c).alias(c) for c in strings])
    cleaned = cleaned.with_columns(
        *[
            _map_distinct(cleaned[c], partial(_canonical_case_expr, values=values), pl.Utf8(), c)
            for c, values in _CANONICAL_VALUES.items()
        ],
        pl.coalesce("ProviderName", _entities_provider(cleaned)).alias("ProviderName"),
        pl.coalesce("PublisherName", "ServiceProviderName").alias("PublisherName"),
        canonical_tags(cleaned["Tags"]).alias("Tags"),
        pl.coalesce("ContractedCost", "BilledCost").alias("ContractedCost"),
        pl.coalesce("ListCost", "BilledCost").alias("ListCost"),
    )
    return cleaned.with_columns(
        pl.col("ChargePeriodStart").dt.date().alias("x_charge_date"),
        _map_distinct(cleaned["ProviderName"], provider_slug_expr, pl.Utf8(), "x_provider"),
        pl.lit(SOURCE).alias("x_source"),
        pl.concat_str(
            ["x_ingestion_key", "x_source_file", pl.col("x_source_line").cast(pl.Utf8)],
            separator="|",
        ).alias("x_source_row_key"),
        pl.col("ServiceName").alias("x_service_code"),
    ).select([pl.col(c).cast(t) for c, t in focus.SOURCE_FOCUS_COLUMNS.items()])


def _entities_provider(cleaned: pl.DataFrame) -> pl.Expr:
    """ProviderName from the 1.3 entity columns, computed only when some row lacks one."""
    if cleaned["ProviderName"].null_count() == 0:
        return pl.lit(None, pl.Utf8)
    return provider_from_entities_expr()


def row_amounts(raw: pl.DataFrame) -> pl.DataFrame:
    """Per row, in order: BilledCost and BillingCurrency."""
    return raw.select(
        pl.col("BilledCost").cast(MONEY).alias("amount"),
        pl.col("BillingCurrency").cast(pl.Utf8).alias("currency"),
    )


def billed_totals(raw: pl.DataFrame) -> pl.DataFrame:
    """Per billing currency, the sum of BilledCost the export states (what normalization keeps)."""
    return (
        raw.group_by(pl.col("BillingCurrency").alias("currency"))
        .agg(pl.col("BilledCost").sum().cast(MONEY).alias("amount"))
        .sort("currency")
        .select(pl.col("currency").cast(pl.Utf8), pl.col("amount").cast(MONEY))
    )


def _read_text_frame(data: bytes, source_file: str, max_inflated: int) -> tuple[pl.DataFrame, int]:
    """The file as an all-text frame, and the line number of its first data row."""
    try:
        if data[:4] == b"PAR1":
            frame = pl.read_parquet(io.BytesIO(data))
            return frame.select([_as_text_expr(c, t) for c, t in frame.schema.items()]), 1
        if data[:2] == b"\x1f\x8b":
            data = bounded_gunzip(data, max_inflated)
        return pl.read_csv(io.BytesIO(data), infer_schema=False), 2
    except GzipBombError as exc:
        raise common.SourceFormatError(f"{source_file}: refused: {exc}") from exc
    except (pl.exceptions.PolarsError, OSError, EOFError, ValueError) as exc:
        raise common.SourceFormatError(
            f"{source_file}: not a readable FOCUS export: {exc}"
        ) from exc


def _as_text_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """A Parquet column as text: timestamps in RFC 3339 UTC, nested values as JSON."""
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        utc = col.dt.convert_time_zone("UTC") if dtype.time_zone else col
        return utc.dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ").alias(column)
    if isinstance(dtype, pl.Struct):
        return col.struct.json_encode().alias(column)
    if isinstance(dtype, pl.List | pl.Array):
        prefix = len(json.dumps(column)) + 2
        encoded = pl.struct(col).struct.json_encode()
        return encoded.str.slice(prefix, encoded.str.len_chars() - prefix - 1).alias(column)
    return col.cast(pl.Utf8).alias(column)


def _check_headers(columns: list[str], source_file: str) -> None:
    missing = [c for c in _REQUIRED_HEADERS if c not in columns]
    if not any(c in columns for c in _PROVIDER_HEADERS):
        missing.append(" or ".join(_PROVIDER_HEADERS))
    if missing:
        seen = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise common.SourceFormatError(
            f"{source_file}: not a FOCUS export: missing column(s) {', '.join(missing)} "
            f"(header starts: {seen})"
        )


def _missing(text: pl.DataFrame) -> list[str]:
    return [c for c in FOCUS_RAW_COLUMNS if c not in text.columns]


def _map_distinct(
    values: pl.Series, expr: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType, name: str
) -> pl.Series:
    """expr evaluated once per distinct value and mapped back: dates, names repeat a lot."""
    distinct = values.drop_nulls().unique()
    mapped = distinct.to_frame("v").select(expr(pl.col("v")).cast(dtype)).to_series()
    return values.replace_strict(distinct, mapped, default=None, return_dtype=dtype).alias(name)


def _canonical_case_expr(text: pl.Expr, values: tuple[str | None, ...]) -> pl.Expr:
    """Known enumeration values in their FOCUS spelling, whatever their case; others unchanged."""
    mapping = {v.lower(): v for v in values if v is not None}
    key = text.str.strip_chars().str.to_lowercase()
    return key.replace_strict(mapping, default=text, return_dtype=pl.Utf8)


def _parse_timestamp_expr(raw: pl.Expr) -> pl.Expr:
    """ISO 8601 (zone or not), M/D/YYYY, M/D/YY or YYYYMMDD text -> UTC; naive means UTC."""
    return parse_timestamp_text_expr(raw)


def _problem_expr() -> pl.Expr:
    """The first problem of a row as 'column\\treason', or null when the row is good."""
    checks: list[tuple[pl.Expr, str, pl.Expr]] = []
    for c in _TIMESTAMPS:
        blank, parsed = blank_expr(c), pl.col(f"__t_{c}")
        checks.append((blank, c, pl.lit("missing required timestamp")))
        checks.append((parsed.is_null(), c, pl.format("invalid timestamp '{}'", pl.col(c))))
    for c in _AMOUNTS:
        blank, parsed = blank_expr(c), pl.col(f"__t_{c}")
        if c in _REQUIRED_AMOUNTS:
            checks.append((blank, c, pl.lit("missing required amount")))
        checks.append((~blank & parsed.is_null(), c, pl.format("unparseable amount '{}'", c)))
    for c in _REQUIRED_TEXT:
        checks.append((blank_expr(c), c, pl.lit("missing required value")))
    checks.append((pl.col("__tags_problem"), "Tags", pl.lit("Tags is not a JSON object")))
    return pl.coalesce(
        pl.when(condition).then(pl.concat_str(pl.lit(column + "\t"), reason))
        for condition, column, reason in checks
    )


def _quarantine(typed: pl.DataFrame, original: list[str], rows: pl.DataFrame) -> pl.DataFrame:
    bad = typed.filter(pl.col("__problem").is_not_null())
    if bad.is_empty():
        return common.empty_quarantine()
    fallback = rows["x_charge_date"].min() if rows.height else None
    parts = pl.col("__problem").str.split_exact("\t", 1)
    return bad.select(
        pl.col("x_charge_date").fill_null(pl.lit(fallback, pl.Date)),
        pl.lit(SOURCE).alias("x_source"),
        "x_ingestion_key",
        "x_source_file",
        "x_source_line",
        parts.struct.field("field_0").alias("x_column"),
        parts.struct.field("field_1").alias("x_reason"),
        pl.struct(original).struct.json_encode().alias("x_raw_record"),
        pl.col("BilledCost").alias("x_amount"),
        pl.col("BillingCurrency").alias("x_currency"),
    ).select([pl.col(c).cast(t) for c, t in common.QUARANTINE_COLUMNS.items()])
