"""AWS Cost and Usage Report (CUR 2.0 data export, and legacy CUR): one file -> raw rows.

Reads Parquet, CSV.gz and plain CSV. CUR 2.0 snake_case names are the raw columns; legacy
headers such as 'lineItem/UsageStartDate' are mapped to the same names, and legacy
'resourceTags/user:CostCenter' columns are folded into the CUR 2.0 'resource_tags' JSON
({"user_CostCenter": ...}). CSV is read as text; every amount is cast with parse_money_expr.
Parquet amount columns (double in AWS's own exports, decimal in our sample) go through their
text form, so no float arithmetic ever touches them. The FOCUS mapping is in aws_cur_focus.
"""

import datetime as dt
from collections.abc import Iterator

import polars as pl

from finops_assets.domain.money import MONEY, parse_money_expr
from finops_assets.domain.sources.aws_cur_focus import (
    PROVIDER,
    SOURCE,
    billed_totals,
    row_amounts,
    to_focus,
)
from finops_assets.domain.sources.aws_cur_read import (
    MONEY_COLUMNS,
    SOURCE_COLUMNS,
    TEXT_COLUMNS,
    TIME_COLUMNS,
    UTC_TS,
    cur2_column_name,
    read_batches,
    read_table,
    text_columns,
)
from finops_assets.domain.sources.common import (
    INGEST_METADATA_COLUMNS,
    MAX_INFLATED_BYTES,
    QUARANTINE_COLUMNS,
    ParseResult,
    refuse_duplicate_columns,
)
from finops_assets.domain.sources.extra_columns import (
    EXTRA_COLUMN,
    EXTRA_COLUMNS,
    extra_columns_expr,
)

__all__ = [
    "PROVIDER",
    "RAW_COLUMNS",
    "SOURCE",
    "billed_totals",
    "cur2_column_name",
    "parse",
    "parse_batches",
    "row_amounts",
]
__all__ += ["to_focus"]

RAW_COLUMNS: dict[str, pl.DataType] = {
    **{c: pl.Utf8() for c in TEXT_COLUMNS},
    **{c: UTC_TS for c in TIME_COLUMNS},
    **{c: MONEY for c in MONEY_COLUMNS},
    **EXTRA_COLUMNS,  # unknown columns of the file, as JSON object text (null when none)
    **INGEST_METADATA_COLUMNS,
}


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
    frame, first_line = read_table(data, source_file, max_inflated_bytes)
    return _parse_frame(frame, first_line, source_file, ingestion_key, fetched_at)


def parse_batches(
    data: bytes,
    *,
    source_file: str,
    ingestion_key: str,
    fetched_at: dt.datetime,
    batch_rows: int,
    max_inflated_bytes: int = MAX_INFLATED_BYTES,
) -> Iterator[ParseResult]:
    """`parse` in bounded memory: a Parquet file `batch_rows` rows at a time (CSV whole).

    The results, joined in order, are `parse`'s: the same rows and quarantine, line numbers
    the file's own. A file that turns out unreadable part way raises SourceFormatError after
    some results were given: the caller drops them (the file is refused whole).
    """
    for frame, first_line in read_batches(data, source_file, max_inflated_bytes, batch_rows):
        yield _parse_frame(frame, first_line, source_file, ingestion_key, fetched_at)


def _parse_frame(
    frame: pl.DataFrame,
    first_line: int,
    source_file: str,
    ingestion_key: str,
    fetched_at: dt.datetime,
) -> ParseResult:
    """Rows of a CUR file (or a batch of its rows, the first on `first_line`) -> ParseResult."""
    refuse_duplicate_columns(frame.columns, source_file)
    text = text_columns(frame, source_file).with_row_index("x_source_line", offset=first_line)
    unknown = [
        c
        for c in frame.columns
        if cur2_column_name(c) not in SOURCE_COLUMNS and not c.startswith("resourceTags/")
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
            for c in SOURCE_COLUMNS
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
