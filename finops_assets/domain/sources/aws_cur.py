"""AWS Cost and Usage Report (CUR 2.0 data export, and legacy CUR): one file -> raw rows.

Reads Parquet, CSV.gz and plain CSV. CUR 2.0 snake_case names are the raw columns; legacy
headers such as 'lineItem/UsageStartDate' are mapped to the same names, and legacy
'resourceTags/user:CostCenter' columns are folded into the CUR 2.0 'resource_tags' JSON
({"user_CostCenter": ...}). CSV is read as text; every amount is cast with parse_money_expr.
Parquet amount columns (double in AWS's own exports, decimal in our sample) go through their
text form, so no float arithmetic ever touches them. The FOCUS mapping is in aws_cur_focus.
"""

import datetime as dt
import io
import re

import polars as pl

from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.aws_cur_focus import (
    PROVIDER,
    SOURCE,
    billed_totals,
    row_amounts,
    to_focus,
)
from finops_assets.domain.sources.common import (
    INGEST_METADATA_COLUMNS,
    MAX_INFLATED_BYTES,
    QUARANTINE_COLUMNS,
    ParseResult,
    SourceFormatError,
    refuse_duplicate_columns,
    refuse_ragged_rows,
)
from finops_assets.domain.sources.extra_columns import (
    EXTRA_COLUMN,
    EXTRA_COLUMNS,
    extra_columns_expr,
)
from finops_assets.security.hardening import GzipBombError, bounded_gunzip

__all__ = [
    "PROVIDER",
    "RAW_COLUMNS",
    "SOURCE",
    "billed_totals",
    "cur2_column_name",
    "parse",
    "row_amounts",
]
__all__ += ["to_focus"]

UTC_TS = pl.Datetime("us", "UTC")
TIME_COLUMNS = (
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
)
MONEY_COLUMNS = (
    "line_item_usage_amount",
    "line_item_unblended_rate",
    "line_item_unblended_cost",
    "line_item_net_unblended_cost",
    "pricing_public_on_demand_cost",
    "pricing_public_on_demand_rate",
    "savings_plan_savings_plan_effective_cost",
    "reservation_effective_cost",
)
TEXT_COLUMNS = (
    "identity_line_item_id",
    "bill_invoice_id",
    "bill_payer_account_id",
    "bill_payer_account_name",
    "line_item_usage_account_id",
    "line_item_usage_account_name",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_resource_id",
    "line_item_availability_zone",
    "line_item_currency_code",
    "line_item_line_item_description",
    "pricing_unit",
    "product_product_name",
    "product_region_code",
    "product_servicecode",
    "product_product_family",
    "product_sku",
    "savings_plan_savings_plan_a_r_n",
    "reservation_reservation_a_r_n",
    "resource_tags",  # JSON object text, CUR 2.0 keys: {"user_CostCenter": "payments"}
)
# Without these a file is not a CUR: SourceFormatError.
REQUIRED_COLUMNS = (
    "line_item_line_item_type",
    "line_item_usage_account_id",
    "line_item_usage_start_date",
    "line_item_unblended_cost",
    "line_item_currency_code",
)

RAW_COLUMNS: dict[str, pl.DataType] = {
    **{c: pl.Utf8() for c in TEXT_COLUMNS},
    **{c: UTC_TS for c in TIME_COLUMNS},
    **{c: MONEY for c in MONEY_COLUMNS},
    **EXTRA_COLUMNS,  # unknown columns of the file, as JSON object text (null when none)
    **INGEST_METADATA_COLUMNS,
}
_SOURCE_COLUMNS = (*TEXT_COLUMNS, *TIME_COLUMNS, *MONEY_COLUMNS)


def cur2_column_name(header: str) -> str:
    """CUR 2.0 name of a column: 'lineItem/UsageStartDate' -> 'line_item_usage_start_date'."""
    if "/" not in header:
        return header.strip()
    category, attribute = header.strip().split("/", 1)
    if category == "resourceTags":
        return "resourceTags/" + attribute
    snake = re.sub(r"([A-Z])", r"_\1", f"{category}_{attribute}").lower()
    return re.sub(r"_+", "_", snake).strip("_")


def _read_table(data: bytes, source_file: str, max_inflated: int) -> tuple[pl.DataFrame, int]:
    """The file as a frame and the line number of its first row (CSV header = line 1)."""
    try:
        if data[:4] == b"PAR1":
            return pl.read_parquet(io.BytesIO(data)), 1
        text = bounded_gunzip(data, max_inflated) if data[:2] == b"\x1f\x8b" else data
        if not text.strip():
            raise SourceFormatError(f"{source_file}: empty file, no CUR header")
        refuse_ragged_rows(text, source_file, _essential_header)
        return pl.read_csv(io.BytesIO(text), infer_schema=False), 2
    except GzipBombError as exc:
        raise SourceFormatError(f"{source_file}: refused: {exc}") from exc
    except (pl.exceptions.PolarsError, OSError, EOFError) as exc:
        raise SourceFormatError(f"{source_file}: not a readable CUR file ({exc})") from exc


def _essential_header(header: str) -> bool:
    """A column a row cannot lack: a required one, a cost or a time."""
    return cur2_column_name(header) in (*REQUIRED_COLUMNS, *MONEY_COLUMNS, *TIME_COLUMNS)


def _json_text(expr: pl.Expr) -> pl.Expr:
    escaped = expr.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        '"', '\\"', literal=True
    )
    return pl.concat_str(pl.lit('"'), escaped, pl.lit('"'))


def _legacy_tags(frame: pl.DataFrame) -> pl.Expr:
    """Legacy resourceTags/user:X columns -> CUR 2.0 resource_tags JSON text."""
    pairs = []
    for column in (c for c in frame.columns if c.startswith("resourceTags/")):
        key = column.removeprefix("resourceTags/").replace(":", "_", 1)
        value = pl.col(column).cast(pl.Utf8)
        pair = pl.concat_str(_json_text(pl.lit(key)), pl.lit(":"), _json_text(value))
        pairs.append(pl.when(value.str.len_chars() > 0).then(pair))
    if not pairs:
        return pl.lit(None, pl.Utf8)
    joined = pl.concat_str(pairs, separator=",", ignore_nulls=True)
    return pl.concat_str(pl.lit("{"), joined, pl.lit("}"))


def _map_tags(column: pl.Expr) -> pl.Expr:
    """A Parquet map<string,string> (list of key/value structs) -> JSON object text."""
    pair = pl.concat_str(
        _json_text(pl.element().struct.field("key")),
        pl.lit(":"),
        _json_text(pl.element().struct.field("value")),
    )
    joined = column.list.eval(pair.drop_nulls()).list.join(",")
    return pl.concat_str(pl.lit("{"), joined, pl.lit("}"))


def _as_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The column as text (how it was written); Parquet maps become JSON, times ISO text."""
    if column not in frame.columns:
        return pl.lit(None, pl.Utf8).alias(column)
    dtype = frame.schema[column]
    if isinstance(dtype, pl.List):
        return _map_tags(pl.col(column)).alias(column)
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").alias(column)
    if dtype.is_float():  # AWS writes amounts as double: decimal text, never '1e-7'
        return pl.col(column).cast(pl.Decimal(38, 18)).cast(pl.Utf8).alias(column)
    return pl.col(column).cast(pl.Utf8).alias(column)


def _normalized(frame: pl.DataFrame, source_file: str) -> pl.DataFrame:
    """Rename legacy headers, check the required columns, keep every known column as text."""
    renamed = frame.rename({c: cur2_column_name(c) for c in frame.columns})
    if "resource_tags" not in renamed.columns:
        renamed = renamed.with_columns(resource_tags=_legacy_tags(renamed))
    missing = [c for c in REQUIRED_COLUMNS if c not in renamed.columns]
    if missing:
        raise SourceFormatError(
            f"{source_file}: not an AWS CUR file, missing column(s) {', '.join(missing)}"
        )
    times = [
        _utc(pl.col(c)).alias(f"_ts_{c}")
        for c in TIME_COLUMNS
        if c in renamed.columns and isinstance(renamed.schema[c], pl.Datetime)
    ]
    return renamed.select([_as_text(renamed, c) for c in _SOURCE_COLUMNS] + times)


def _utc(expr: pl.Expr) -> pl.Expr:
    return expr.dt.cast_time_unit("us").dt.replace_time_zone(None).dt.replace_time_zone("UTC")


def parse_timestamp_expr(column: str) -> pl.Expr:
    """ISO text ('2024-01-01T00:00:00Z', '...00.000Z', '2018-06-01 00:00:00') -> UTC datetime."""
    text = (
        pl.col(column)
        .str.strip_chars()
        .str.replace("T", " ", literal=True)
        .str.replace(r"(Z|[+-]00:?00)$", "")
    )
    return pl.coalesce(
        text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False),
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    ).dt.replace_time_zone("UTC")


Check = tuple[str, pl.Expr, str]


def _checks() -> list[Check]:
    """(column, bad-row condition, reason) in the order they are reported."""
    start = "line_item_usage_start_date"
    checks: list[Check] = [
        (start, pl.col(f"_t_{start}").is_null(), "missing usage start"),
        ("line_item_unblended_cost", pl.col("_t_line_item_unblended_cost").is_null(), "missing"),
        ("line_item_currency_code", pl.col("line_item_currency_code").is_null(), "missing"),
    ]
    for column in TIME_COLUMNS:
        bad = pl.col(f"_t_{column}").is_not_null() & pl.col(column).is_null()
        checks.append((column, bad, "invalid date"))
    for column in MONEY_COLUMNS:
        bad = pl.col(f"_t_{column}").is_not_null() & pl.col(column).is_null()
        checks.append((column, bad, "unparseable amount"))
    return checks


def _first_failure(checks: list[Check]) -> tuple[pl.Expr, pl.Expr]:
    column = pl.lit(None, pl.Utf8)
    reason = pl.lit(None, pl.Utf8)
    for name, bad, why in reversed(checks):
        seen = pl.col(f"_t_{name}") if name in (*TIME_COLUMNS, *MONEY_COLUMNS) else pl.col(name)
        text = pl.concat_str(pl.lit(f"{why}: "), seen.fill_null("<null>").str.head(80))
        column = pl.when(bad).then(pl.lit(name)).otherwise(column)
        reason = pl.when(bad).then(text).otherwise(reason)
    return column, reason


def _typed(text: pl.DataFrame) -> pl.DataFrame:
    """Cast times and amounts, keeping their texts as _t_* for the checks and quarantine."""
    originals = [pl.col(c).alias(f"_t_{c}") for c in (*TIME_COLUMNS, *MONEY_COLUMNS)]
    times = {
        c: pl.col(f"_ts_{c}") if f"_ts_{c}" in text.columns else parse_timestamp_expr(c)
        for c in TIME_COLUMNS
    }
    money = {c: parse_money_expr(c) for c in MONEY_COLUMNS}
    return text.with_columns(originals).with_columns(**times, **money)


def parse(
    data: bytes,
    *,
    source_file: str,
    ingestion_key: str,
    fetched_at: dt.datetime,
    max_inflated_bytes: int = MAX_INFLATED_BYTES,
) -> ParseResult:
    """One CUR file (Parquet, CSV.gz or CSV) -> raw CUR 2.0 rows and quarantined rows.

    A CSV.gz that inflates past `max_inflated_bytes` is refused (a gzip bomb), not unpacked.
    """
    frame, first_line = _read_table(data, source_file, max_inflated_bytes)
    refuse_duplicate_columns(frame.columns, source_file)
    text = _normalized(frame, source_file).with_row_index("x_source_line", offset=first_line)
    unknown = [
        c
        for c in frame.columns
        if cur2_column_name(c) not in _SOURCE_COLUMNS and not c.startswith("resourceTags/")
    ]
    extra = frame.with_columns(extra_columns_expr(frame.schema, unknown))[EXTRA_COLUMN]
    text = text.with_columns(extra)
    column, reason = _first_failure(_checks())
    typed = _typed(text).with_columns(
        _column=column,
        _reason=reason,
        x_charge_date=pl.col("line_item_usage_start_date").dt.date(),
        x_ingestion_key=pl.lit(ingestion_key),
        x_source_file=pl.lit(source_file),
        x_source_line=pl.col("x_source_line").cast(pl.Int64),
        x_fetched_at=pl.lit(fetched_at).cast(UTC_TS),
    )
    good = typed.filter(pl.col("_column").is_null()).select(
        [pl.col(c).cast(t) for c, t in RAW_COLUMNS.items()]
    )
    raw_record = pl.struct(
        [
            pl.col(f"_t_{c}").alias(c) if f"_t_{c}" in typed.columns else pl.col(c)
            for c in _SOURCE_COLUMNS
        ]
    ).struct.json_encode()
    quarantine = typed.filter(pl.col("_column").is_not_null()).select(
        x_charge_date=pl.col("x_charge_date"),
        x_source=pl.lit(SOURCE),
        x_ingestion_key=pl.lit(ingestion_key),
        x_source_file=pl.lit(source_file),
        x_source_line=pl.col("x_source_line"),
        x_column=pl.col("_column"),
        x_reason=pl.col("_reason"),
        x_raw_record=raw_record,
        x_amount=pl.col("_t_line_item_unblended_cost"),
        x_currency=pl.col("line_item_currency_code"),
    )
    quarantine = quarantine.select([pl.col(c).cast(t) for c, t in QUARANTINE_COLUMNS.items()])
    return ParseResult(rows=good, quarantine=quarantine)
