"""An AWS CUR file (Parquet, CSV.gz, CSV; CUR 2.0 or legacy) read as text columns with CUR 2.0
names: legacy headers renamed, legacy resourceTags/* folded into resource_tags JSON, Parquet
amounts and times as their text. Typing and checks are in aws_cur.py.
"""

import io
import re
from collections.abc import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from finops_assets.domain.sources.common import SourceFormatError, refuse_ragged_rows
from finops_assets.security.hardening import GzipBombError, bounded_gunzip

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
SOURCE_COLUMNS = (*TEXT_COLUMNS, *TIME_COLUMNS, *MONEY_COLUMNS)


def cur2_column_name(header: str) -> str:
    """CUR 2.0 name of a column: 'lineItem/UsageStartDate' -> 'line_item_usage_start_date'."""
    if "/" not in header:
        return header.strip()
    category, attribute = header.strip().split("/", 1)
    if category == "resourceTags":
        return "resourceTags/" + attribute
    snake = re.sub(r"([A-Z])", r"_\1", f"{category}_{attribute}").lower()
    return re.sub(r"_+", "_", snake).strip("_")


def read_table(data: bytes, source_file: str, max_inflated: int) -> tuple[pl.DataFrame, int]:
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


def read_batches(
    data: bytes, source_file: str, max_inflated: int, batch_rows: int
) -> Iterator[tuple[pl.DataFrame, int]]:
    """read_table in record batches: (frame, line number of its first row) per batch.

    A Parquet file is decoded `batch_rows` rows at a time (a Polars scan of its bytes, sliced:
    only the row groups of a slice are read), so only one batch is held; line numbers run on
    across batches (the file's own row numbers).
    Always at least one batch (an empty file gives its empty schema). CSV comes whole.
    """
    if data[:4] != b"PAR1":
        yield read_table(data, source_file, max_inflated)
        return
    try:
        rows = pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
        scan = pl.scan_parquet(io.BytesIO(data))
        # slices of the scan read only their row groups; no rows: the schema alone, so a
        # non-CUR file is still refused
        for offset in range(0, max(rows, 1), batch_rows):
            yield scan.slice(offset, batch_rows).collect(), offset + 1
    except (pa.ArrowException, pl.exceptions.PolarsError, OSError) as exc:
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


def text_columns(frame: pl.DataFrame, source_file: str) -> pl.DataFrame:
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
        utc(pl.col(c)).alias(f"_ts_{c}")
        for c in TIME_COLUMNS
        if c in renamed.columns and isinstance(renamed.schema[c], pl.Datetime)
    ]
    return renamed.select([_as_text(renamed, c) for c in SOURCE_COLUMNS] + times)


def utc(expr: pl.Expr) -> pl.Expr:
    """A datetime of any unit and zone as microseconds, its wall clock read as UTC."""
    return expr.dt.cast_time_unit("us").dt.replace_time_zone(None).dt.replace_time_zone("UTC")
