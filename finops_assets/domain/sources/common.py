"""What every source module shares: ingestion metadata, quarantine rows, the parse result."""

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

# How far a compressed input file may inflate; past this it is refused as a gzip bomb.
MAX_INFLATED_BYTES = 4 << 30

# Appended to every raw table after the provider-native columns.
INGEST_METADATA_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),  # UTC usage day of the row: the partition
    "x_ingestion_key": pl.Utf8(),  # deterministic: provider, account, day, request or content hash
    "x_source_file": pl.Utf8(),  # file name, object key or API page the row came from
    "x_source_line": pl.Int64(),  # 1-based line (CSV, header = line 1) or row index in page/file
    "x_fetched_at": pl.Datetime(
        "us", "UTC"
    ),  # when the payload was fetched (object mtime for files)
}

# One row per rejected input row; shared by every source and stage.
QUARANTINE_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),  # the partition being ingested
    "x_source": pl.Utf8(),  # aws_cur, gcp_billing_export, ..., or normalized_costs
    "x_ingestion_key": pl.Utf8(),
    "x_source_file": pl.Utf8(),
    "x_source_line": pl.Int64(),
    "x_column": pl.Utf8(),  # the offending column (first one found)
    "x_reason": pl.Utf8(),  # human-readable: what is wrong and what value was seen
    "x_raw_record": pl.Utf8(),  # the original row as JSON text
    "x_amount": pl.Utf8(),  # the row's cost as it was written, when it can be read (for thresholds)
    "x_currency": pl.Utf8(),
}


class SourceFormatError(ValueError):
    """A whole file or page is not in the expected format (wrong provider, missing columns...).

    The message names the file, and the line and column where it can.
    """


# The most a quarantine row keeps of a bad record's text columns: an excerpt, never a whole
# 268 MB cell. A longer raw record is kept as {"x_excerpt": first chars, "x_chars": length}.
MAX_RAW_RECORD_CHARS = 4096
MAX_REASON_CHARS = 1024
MAX_FIELD_CHARS = 256  # x_column, x_amount, x_currency


def _bounded_text(column: str, limit: int) -> pl.Expr:
    text = pl.col(column)
    cut = pl.concat_str(
        text.str.slice(0, limit),
        pl.lit("... ("),
        text.str.len_chars().cast(pl.Utf8),
        pl.lit(" chars)"),
    )
    return pl.when(text.str.len_chars() > limit).then(cut).otherwise(text).alias(column)


def _bounded_record(limit: int = MAX_RAW_RECORD_CHARS) -> pl.Expr:
    record = pl.col("x_raw_record")
    excerpt = pl.struct(
        record.str.slice(0, limit).alias("x_excerpt"),
        record.str.len_chars().alias("x_chars"),
    ).struct.json_encode()
    return (
        pl.when(record.str.len_chars() > limit)
        .then(excerpt)
        .otherwise(record)
        .alias("x_raw_record")
    )


def bounded_quarantine(quarantine: pl.DataFrame) -> pl.DataFrame:
    """The quarantine with each text column cut to its bound (see MAX_RAW_RECORD_CHARS)."""
    if quarantine.is_empty() or "x_raw_record" not in quarantine.columns:
        return quarantine
    limits = {"x_reason": MAX_REASON_CHARS, "x_column": MAX_FIELD_CHARS}
    limits |= {"x_amount": MAX_FIELD_CHARS, "x_currency": MAX_FIELD_CHARS}
    present = [c for c in limits if c in quarantine.columns]
    return quarantine.with_columns(
        _bounded_record(), *[_bounded_text(c, limits[c]) for c in present]
    )


@dataclass(frozen=True)
class ParseResult:
    """Rows that parsed (raw contract columns) and rows that did not (QUARANTINE_COLUMNS).

    The quarantine keeps a bounded excerpt of each bad record (bounded_quarantine).
    """

    rows: pl.DataFrame
    quarantine: pl.DataFrame

    def __post_init__(self) -> None:
        object.__setattr__(self, "quarantine", bounded_quarantine(self.quarantine))


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_COLUMNS)


def ingestion_key(provider: str, account: str, day: dt.date, request: Mapping | bytes) -> str:
    """Deterministic id of one ingestion: same provider, account, day and request -> same key."""
    if isinstance(request, bytes):
        digest = hashlib.sha256(request).hexdigest()
    else:
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{provider}:{account}:{day.isoformat()}:{digest[:16]}"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Polars renames a repeated CSV header 'X' to 'X_duplicated_0', 'X_duplicated_1', ...
_DUPLICATED_SUFFIX = "_duplicated_"
# How much of a refused file's start is shown (printable characters only).
EXCERPT_CHARS = 80


def refuse_duplicate_columns(columns: list[str], source_file: str) -> None:
    """SourceFormatError naming the file and column when a header repeats a column name.

    Which of two `BilledCost` columns holds the bill cannot be guessed; reading either would
    silently drop the other's money.
    """
    present = set(columns)
    for name in columns:
        base, marker, index = name.rpartition(_DUPLICATED_SUFFIX)
        if marker and index.isdigit() and base in present:
            raise SourceFormatError(
                f"{source_file}: duplicated column '{base}' in the header; "
                "each column name must appear once"
            )


def printable_excerpt(data: bytes, limit: int = EXCERPT_CHARS) -> str:
    """The start of a payload as printable text: undecodable or control bytes become '?'."""
    text = data[: limit * 4].decode("utf-8", errors="replace")
    shown = "".join(c if c.isprintable() and c != "\ufffd" else "?" for c in text[:limit])
    return shown + ("..." if len(data) > len(shown.encode()) else "")


def printable_text(text: str, limit: int = 400) -> str:
    """A message safe to print: control characters replaced, bounded length."""
    shown = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return shown + ("..." if len(text) > limit else "")


def refused_file_row(
    *, day: dt.date, source: str, name: str, data: bytes, key: str, reason: str
) -> pl.DataFrame:
    """The one quarantine row of a file that could not be read at all: file, reason, bytes."""
    record = {
        "bytes": len(data),
        "sha256": content_hash(data),
        "excerpt": printable_excerpt(data),
    }
    return pl.DataFrame(
        {
            "x_charge_date": [day],
            "x_source": [source],
            "x_ingestion_key": [key],
            "x_source_file": [name],
            "x_source_line": [None],
            "x_column": ["<file>"],
            "x_reason": [printable_text(f"file refused ({len(data):,} bytes): {reason}")],
            "x_raw_record": [json.dumps(record, sort_keys=True)],
            "x_amount": [None],
            "x_currency": [None],
        },
        schema=QUARANTINE_COLUMNS,
    )


def refuse_ragged_rows(
    text: bytes, source_file: str, essential: Callable[[str], bool] = lambda _: True
) -> None:
    """SourceFormatError naming file, line and field counts when a CSV row has more fields than
    its header, or fewer and the fields it lacks include an `essential` column.

    A row short only of trailing non-essential columns is what an export writes when a column
    (e.g. a cost category) was added to the header later: those cells are empty. A row short of
    a cost or a date cannot be read safely. Counted per line outside quoted text; a file with
    line breaks inside quoted fields is left to the CSV reader (a line is then not a row).
    """
    counted = _field_counts(text)
    if counted is None:
        return
    header = next(csv.reader([counted["line"][0]]))
    width = len(header)
    long = counted.filter(pl.col("fields") > width)
    if long.height:
        _refuse_row(source_file, long.row(0, named=True), width, long.height, "")
    short = counted.filter((pl.col("fields") < width) & (pl.col("line") != ""))
    if short.height:
        first = short.sort("fields").row(0, named=True)
        lacking = [c for c in header[first["fields"] :] if essential(c)]
        if lacking:
            _refuse_row(source_file, first, width, short.height, f"; it lacks {lacking[:5]}")


def _field_counts(text: bytes) -> pl.DataFrame | None:
    """[number, line, fields] per data line, or None when lines are not rows."""
    try:  # one column per line: \x1f (unit separator) does not occur in billing text
        lines = pl.read_csv(
            io.BytesIO(text),
            has_header=False,
            separator="\x1f",
            quote_char=None,
            infer_schema=False,
            new_columns=["line"],
        ).with_row_index("number", offset=1)
    except pl.exceptions.PolarsError:
        return None  # not line-shaped text: the CSV reader gives its own error
    line = pl.col("line").fill_null("").str.strip_suffix("\r")
    quotes = line.str.count_matches('"', literal=True)
    unquoted = pl.when(quotes > 0).then(line.str.replace_all(r'"[^"]*"', ""))
    counted = lines.select(
        "number",
        line.alias("line"),
        quotes.alias("quotes"),
        (pl.coalesce(unquoted, line).str.count_matches(",", literal=True) + 1).alias("fields"),
    )
    if counted.height < 2 or (counted["quotes"] % 2 != 0).any():
        return None
    return counted


def _refuse_row(source_file: str, row: dict, width: int, count: int, detail: str) -> None:
    raise SourceFormatError(
        f"{source_file}: line {row['number']} has {row['fields']} fields, the header has "
        f"{width} ({count} such row(s)){detail}; the row cannot be read safely"
    )
