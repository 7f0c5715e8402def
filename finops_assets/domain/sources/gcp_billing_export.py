"""GCP Cloud Billing detailed usage cost export (BigQuery schema) delivered as CSV or Parquet files.

CSV files carry BigQuery's flattened names (`service.description`, `labels` and `credits` as JSON
text); Parquet files keep the nested STRUCT/ARRAY columns. Both become one flat text frame, then
one typed raw frame. Amounts are never floats: CSV is read as text, Parquet decimals are cast to
text and credit amounts in JSON are quoted before decoding.
"""

import datetime as dt
import io
import json
from typing import Any

import polars as pl

from finops_assets.domain.focus import TS
from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources import gcp_billing_export_focus as _focus
from finops_assets.domain.sources.common import (
    INGEST_METADATA_COLUMNS,
    QUARANTINE_COLUMNS,
    ParseResult,
    SourceFormatError,
    refuse_duplicate_columns,
)
from finops_assets.domain.sources.extra_columns import EXTRA_COLUMNS, extra_columns_expr
from finops_assets.domain.sources.pyrepr import json_or_repr_series

SOURCE = "gcp_billing_export"
PROVIDER = "gcp"

_S = pl.Utf8()
# flat export column -> (raw column, raw dtype); money and quantities are MONEY.
_COLUMN_MAP: dict[str, tuple[str, pl.DataType]] = {
    "billing_account_id": ("billing_account_id", _S),
    "service.id": ("service_id", _S),
    "service.description": ("service_description", _S),
    "sku.id": ("sku_id", _S),
    "sku.description": ("sku_description", _S),
    "project.id": ("project_id", _S),
    "project.number": ("project_number", _S),
    "project.name": ("project_name", _S),
    "project.ancestry_numbers": ("project_ancestry_numbers", _S),
    "labels": ("labels_json", _S),
    "system_labels": ("system_labels_json", _S),
    "location.location": ("location_location", _S),
    "location.country": ("location_country", _S),
    "location.region": ("location_region", _S),
    "location.zone": ("location_zone", _S),
    "resource.name": ("resource_name", _S),
    "resource.global_name": ("resource_global_name", _S),
    "usage_start_time": ("usage_start_time", TS),
    "usage_end_time": ("usage_end_time", TS),
    "export_time": ("export_time", TS),
    "cost": ("cost", MONEY),
    "currency": ("currency", _S),
    "currency_conversion_rate": ("currency_conversion_rate", MONEY),
    "usage.amount": ("usage_amount", MONEY),
    "usage.unit": ("usage_unit", _S),
    "usage.amount_in_pricing_units": ("usage_amount_in_pricing_units", MONEY),
    "usage.pricing_unit": ("usage_pricing_unit", _S),
    "credits": ("credits_json", _S),
    "invoice.month": ("invoice_month", _S),
    "cost_type": ("cost_type", _S),
    "adjustment_info": ("adjustment_info_json", _S),
    "price.effective_price": ("price_effective_price", MONEY),
    "price.unit": ("price_unit", _S),
    "cost_at_list": ("cost_at_list", MONEY),
    "transaction_type": ("transaction_type", _S),
    "seller_name": ("seller_name", _S),
}
_CREDITS_TOTAL = "credits_total"

RAW_COLUMNS: dict[str, pl.DataType] = {
    **{raw: dtype for raw, dtype in _COLUMN_MAP.values()},
    _CREDITS_TOTAL: MONEY,
    **EXTRA_COLUMNS,  # unknown columns of the file, as JSON object text (null when none)
    **INGEST_METADATA_COLUMNS,
}

_REQUIRED = ("cost", "currency", "usage_start_time", "usage_end_time", "service.description")
_JSON_COLUMNS = ("labels", "system_labels", "project.labels")
_CREDIT_DTYPE = pl.List(
    pl.Struct({k: pl.Utf8() for k in ("name", "amount", "full_name", "id", "type")})
)
_AMOUNT_NUMBER = r'("amount"\s*:\s*)(-?[0-9][0-9.eE+\-]*)'
_PARQUET_MAGIC = b"PAR1"


def parse(
    data: bytes, *, source_file: str, ingestion_key: str, fetched_at: dt.datetime
) -> ParseResult:
    """One export file (CSV or Parquet) -> typed raw rows and quarantined rows."""
    if data[:4] == _PARQUET_MAGIC:
        text = _flatten_parquet(data, source_file)
    else:
        text = _read_csv_text(data, source_file)
    refuse_duplicate_columns(text.columns, source_file)
    missing = [c for c in _REQUIRED if c not in text.columns]
    if missing:
        raise SourceFormatError(
            f"{source_file}: not a GCP billing export, missing columns {missing}"
        )
    first_line = 1 if data[:4] == _PARQUET_MAGIC else 2
    unknown = [c for c in text.columns if c not in _COLUMN_MAP]
    text = text.with_columns(
        *[pl.lit(None, pl.Utf8).alias(c) for c in _COLUMN_MAP if c not in text.columns],
        extra_columns_expr(text.schema, unknown).alias("__extra"),
    ).with_row_index("__line", offset=first_line)
    return _typed(text, source_file, ingestion_key, fetched_at)


def to_focus(raw: pl.DataFrame) -> pl.DataFrame:
    """Raw export rows -> FOCUS rows: one per export row plus one Credit row per credit."""
    return _focus.to_focus(raw)


def row_amounts(raw: pl.DataFrame) -> pl.DataFrame:
    """Per row, in order: cost + its credits (what the row charges) and its currency."""
    return raw.select(
        (pl.col("cost") + pl.col(_CREDITS_TOTAL)).cast(MONEY).alias("amount"),
        pl.col("currency").cast(pl.Utf8),
    )


def billed_totals(raw: pl.DataFrame) -> pl.DataFrame:
    """Per currency: sum(cost) + sum(credit amounts), what the billing account is charged."""
    return (
        raw.group_by("currency")
        .agg((pl.col("cost").sum() + pl.col(_CREDITS_TOTAL).sum()).cast(MONEY).alias("amount"))
        .sort("currency")
    )


def _read_csv_text(data: bytes, source_file: str) -> pl.DataFrame:
    try:
        return pl.read_csv(io.BytesIO(data), infer_schema=False, raise_if_empty=False)
    except pl.exceptions.PolarsError as exc:
        raise SourceFormatError(f"{source_file}: unreadable CSV: {exc}") from exc


def _text_expr(expr: pl.Expr, dtype: Any) -> pl.Expr:
    """A Parquet leaf column as text (decimals exactly, lists as JSON); timestamps as UTC."""
    if isinstance(dtype, pl.Datetime):  # kept typed: formatting to text and back is slow
        utc = expr.dt.replace_time_zone("UTC") if dtype.time_zone is None else expr
        return utc.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        # Polars encodes decimals inside JSON as strings: exact, never a float.
        wrapped = pl.struct(v=expr).struct.json_encode().str.slice(5).str.strip_suffix("}")
        return pl.when(expr.is_not_null()).then(wrapped)
    if isinstance(dtype, pl.List):
        return expr.cast(pl.List(pl.Utf8)).list.join(",")
    return expr.cast(pl.Utf8)


def _flatten_parquet(data: bytes, source_file: str) -> pl.DataFrame:
    try:
        nested = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not this format"
        raise SourceFormatError(f"{source_file}: unreadable Parquet: {exc}") from exc
    exprs: list[pl.Expr] = []
    for name, dtype in nested.schema.items():
        if isinstance(dtype, pl.Struct):
            for f in dtype.fields:
                expr = pl.col(name).struct.field(f.name)
                exprs.append(_text_expr(expr, f.dtype).alias(f"{name}.{f.name}"))
        else:
            exprs.append(_text_expr(pl.col(name), dtype).alias(name))
    return nested.select(exprs)


def _canonical_labels(labels: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Labels JSON -> canonical `[{"key","value"}]` text and a validity mask (per distinct value)."""
    mapping: dict[str, str | None] = {}
    for value in labels.drop_nulls().unique().to_list():
        try:
            items = json.loads(value) if value.strip() else []
            if isinstance(items, dict):  # some tools flatten labels to an object
                items = [{"key": k, "value": v} for k, v in items.items()]
            pairs = [{"key": str(i["key"]), "value": str(i.get("value", ""))} for i in items]
            mapping[value] = json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
        except (ValueError, TypeError, KeyError, AttributeError):
            mapping[value] = None
    canon = labels.replace_strict(mapping, default=None, return_dtype=pl.Utf8)
    canon = pl.select(pl.when(labels.is_null()).then(pl.lit("[]")).otherwise(canon)).to_series()
    return canon, canon.is_not_null()


def _quoted_credits(credits: pl.Series) -> pl.Series:
    """Credits JSON text with every numeric amount quoted, so decoding never makes a float."""
    text = credits.fill_null("[]").str.strip_chars().replace("", "[]")
    return text.str.replace_all(_AMOUNT_NUMBER, '${1}"${2}"')


def _decoded_credits(quoted: pl.Series) -> pl.Series:
    """Quoted credits text -> List(Struct) with amounts as text; undecodable rows -> null."""
    try:
        return quoted.str.json_decode(_CREDIT_DTYPE)
    except pl.exceptions.PolarsError:
        bad = []
        for value in quoted.unique().to_list():
            try:
                pl.Series([value]).str.json_decode(_CREDIT_DTYPE)
            except pl.exceptions.PolarsError:
                bad.append(value)
        valid = pl.select(pl.when(quoted.is_in(bad)).then(None).otherwise(quoted)).to_series()
        return valid.str.json_decode(_CREDIT_DTYPE)


def _credit_columns(text: pl.DataFrame) -> pl.DataFrame:
    """credits_json (amounts as strings), credits_total and a credit-validity flag per row."""
    quoted = _quoted_credits(text["credits"])
    frame = pl.DataFrame({"q": quoted, "c": _decoded_credits(quoted)}).with_row_index("i")
    amounts = (
        frame.select("i", "c")
        .filter(pl.col("c").list.len() > 0)
        .explode("c", empty_as_null=True)
        .with_columns(pl.col("c").struct.field("amount").alias("a"))
        .with_columns(parse_money_expr("a").alias("m"))
        .group_by("i")
        .agg(
            pl.col("m").sum().alias(_CREDITS_TOTAL),
            (pl.col("m").is_null() & pl.col("c").is_not_null()).any().alias("__bad_amount"),
        )
    )
    return frame.join(amounts, on="i", how="left", maintain_order="left").select(
        pl.col("q").alias("credits_json"),
        pl.col(_CREDITS_TOTAL).fill_null(0).cast(MONEY),
        (pl.col("c").is_not_null() & ~pl.col("__bad_amount").fill_null(False)).alias(
            "__credits_ok"
        ),
    )


def _timestamp_expr(column: str, dtype: Any) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        return pl.col(column)
    text = pl.col(column).str.strip_chars()
    text = text.str.replace(r" UTC$", "+00:00").str.replace(r"Z$", "+00:00").str.replace("T", " ")
    parsed = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us")
    return parsed.dt.convert_time_zone("UTC")


def _typed(
    text: pl.DataFrame, source_file: str, ingestion_key: str, fetched_at: dt.datetime
) -> ParseResult:
    labels, labels_ok = _canonical_labels(json_or_repr_series(text["labels"]))
    credits = _credit_columns(text.with_columns(json_or_repr_series(text["credits"])))
    originals = [c for c in text.columns if c not in ("__line", "__extra")]
    text = text.rename({c: f"t.{c}" for c in originals})
    exprs = []
    for flat, (raw, dtype) in _COLUMN_MAP.items():
        if dtype == MONEY:
            exprs.append(parse_money_expr(f"t.{flat}").alias(raw))
        elif dtype == TS:
            exprs.append(_timestamp_expr(f"t.{flat}", text.schema[f"t.{flat}"]).alias(raw))
        elif flat not in ("labels", "credits"):
            exprs.append(pl.col(f"t.{flat}").alias(raw))
    typed = text.with_columns(exprs).with_columns(
        labels.alias("labels_json"), labels_ok.alias("__labels_ok"), *credits.iter_columns()
    )
    checks = _row_checks(text.schema)
    typed = typed.with_columns(pl.any_horizontal([bad for bad, _ in checks]).alias("__bad"))
    good = typed.filter(~pl.col("__bad"))
    rows = good.with_columns(
        pl.col("usage_start_time").dt.date().alias("x_charge_date"),
        pl.lit(ingestion_key).alias("x_ingestion_key"),
        pl.lit(source_file).alias("x_source_file"),
        pl.col("__line").cast(pl.Int64).alias("x_source_line"),
        pl.lit(fetched_at).cast(pl.Datetime("us", "UTC")).alias("x_fetched_at"),
        pl.col("__extra").alias("x_extra_columns"),
    ).select([pl.col(c).cast(t) for c, t in RAW_COLUMNS.items()])
    bad = typed.filter(pl.col("__bad")).with_columns(
        pl.coalesce([pl.when(is_bad).then(reason) for is_bad, reason in checks]).alias("__problem")
    )
    quarantine = bad.select(
        pl.coalesce(pl.col("usage_start_time").dt.date(), pl.lit(fetched_at.date())).alias(
            "x_charge_date"
        ),
        pl.lit(SOURCE).alias("x_source"),
        pl.lit(ingestion_key).alias("x_ingestion_key"),
        pl.lit(source_file).alias("x_source_file"),
        pl.col("__line").cast(pl.Int64).alias("x_source_line"),
        pl.col("__problem").str.splitn("|", 2).struct.field("field_0").alias("x_column"),
        pl.col("__problem").str.splitn("|", 2).struct.field("field_1").alias("x_reason"),
        pl.struct([pl.col(f"t.{c}").alias(c) for c in originals])
        .struct.json_encode()
        .alias("x_raw_record"),
        pl.col("t.cost").alias("x_amount"),
        pl.col("t.currency").alias("x_currency"),
    )
    return ParseResult(rows=rows, quarantine=quarantine.cast(QUARANTINE_COLUMNS))  # type: ignore[arg-type]


def _row_checks(schema: pl.Schema) -> list[tuple[pl.Expr, pl.Expr]]:
    """(is bad, 'column|reason') per check, in the order the first problem is reported."""
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    for flat, (raw, dtype) in _COLUMN_MAP.items():
        if dtype in (MONEY, TS):
            src = pl.col(f"t.{flat}")
            if isinstance(schema[f"t.{flat}"], pl.Datetime):
                present = src.is_not_null()
                src = src.dt.to_string()
            else:
                present = (src.str.strip_chars().str.len_chars() > 0).fill_null(False)
            bad = pl.col(raw).is_null() & (present | pl.lit(flat in _REQUIRED))
            what = "amount" if dtype == MONEY else "timestamp"
            reason = pl.format("{}|invalid {}: {}", pl.lit(flat), pl.lit(what), src.fill_null(""))
            checks.append((bad, reason))
    no_currency = pl.col("currency").fill_null("").str.strip_chars() == ""
    checks.append((no_currency, pl.lit("currency|missing currency")))
    labels = pl.format("labels|invalid labels JSON: {}", pl.col("t.labels"))
    checks.append((~pl.col("__labels_ok"), labels))
    credits = pl.format("credits|invalid credits: {}", pl.col("t.credits").fill_null(""))
    checks.append((~pl.col("__credits_ok"), credits))
    return checks
