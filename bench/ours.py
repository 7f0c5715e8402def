"""(a) Our pipeline on one day: CUR rows -> to_focus -> normalize_costs -> allocate_costs.

The raw rows are read from the Parquet export with pl.scan_parquet into aws_cur.RAW_COLUMNS,
the typed rows the aws_cur_raw table holds (the test proves they equal aws_cur.parse's rows);
from there on the real domain functions run, exactly as the normalized_costs and
allocated_costs assets call them.
"""

from pathlib import Path

import polars as pl

from bench.reference import FETCHED_AT, INGESTION_KEY, Reference
from finops_assets.domain.allocate import allocate_costs
from finops_assets.domain.normalize import normalize_costs
from finops_assets.domain.sources import aws_cur
from finops_assets.domain.sources.extra_columns import EXTRA_COLUMN, extra_columns_expr

_UTC = pl.Datetime("us", "UTC")


def _json_string(expr: pl.Expr) -> pl.Expr:
    escaped = expr.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        '"', '\\"', literal=True
    )
    return pl.concat_str(pl.lit('"'), escaped, pl.lit('"'))


def tags_json(column: str = "resource_tags") -> pl.Expr:
    """A Parquet map<string,string> column as JSON object text, as aws_cur.parse writes it."""
    pair = pl.concat_str(
        _json_string(pl.element().struct.field("key")),
        pl.lit(":"),
        _json_string(pl.element().struct.field("value")),
    )
    joined = pl.col(column).list.eval(pair.drop_nulls()).list.join(",")
    return pl.concat_str(pl.lit("{"), joined, pl.lit("}")).alias(column)


def scan_cur_raw(
    path: Path, source_file: str, offset: int = 0, limit: int | None = None
) -> pl.LazyFrame:
    """A clean CUR 2.0 Parquet export as aws_cur.RAW_COLUMNS rows, lazily (pl.scan_parquet).

    `offset` and `limit` select a slice of the file's rows; x_source_line stays the file's.
    """
    lazy = pl.scan_parquet(path, row_index_name="x_source_line", row_index_offset=1)
    if offset or limit is not None:
        lazy = lazy.slice(offset, limit)
    present = lazy.collect_schema()
    known = {*aws_cur.TEXT_COLUMNS, *aws_cur.TIME_COLUMNS, *aws_cur.MONEY_COLUMNS}
    unknown = [c for c in present if aws_cur.cur2_column_name(c) not in known]
    unknown = [c for c in unknown if c != "x_source_line" and not c.startswith("resourceTags/")]
    columns = []
    for name, dtype in aws_cur.RAW_COLUMNS.items():
        if name == EXTRA_COLUMN:  # columns the raw table does not type, kept as JSON
            columns.append(extra_columns_expr(present, unknown))
        if name.startswith("x_"):
            continue
        if name == "resource_tags" and isinstance(present.get(name), pl.List):
            columns.append(tags_json(name))
        elif name in aws_cur.TIME_COLUMNS and name in present:
            columns.append(pl.col(name).dt.cast_time_unit("us").cast(_UTC))
        elif name in present:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype).alias(name))
    start = pl.col("line_item_usage_start_date")
    typed = lazy.select(
        *columns,
        start.dt.date().alias("x_charge_date"),
        pl.lit(INGESTION_KEY).alias("x_ingestion_key"),
        pl.lit(source_file).alias("x_source_file"),
        pl.col("x_source_line").cast(pl.Int64),
        pl.lit(FETCHED_AT).cast(_UTC).alias("x_fetched_at"),
    )
    return typed.select(list(aws_cur.RAW_COLUMNS))


def normalize_rows(
    path: Path, reference: Reference, offset: int = 0, limit: int | None = None
) -> pl.DataFrame:
    """Rows of the CUR export through to_focus and normalize_costs (none may be quarantined)."""
    raw = scan_cur_raw(path, path.name, offset, limit).collect()
    rows = aws_cur.to_focus(raw)
    del raw
    normalized = normalize_costs(
        rows,
        fx_rates=reference.rates,
        catalog=reference.catalog,
        catalog_version=reference.catalog_version,
        base_currency=reference.base_currency,
        tag_aliases=reference.tag_aliases,
    )
    del rows
    if normalized.quarantine.height:
        raise RuntimeError(f"{normalized.quarantine.height} rows quarantined in a clean export")
    return normalized.rows


def normalize_and_allocate(path: Path, reference: Reference) -> pl.DataFrame:
    """One day of the CUR export through to_focus, normalize_costs and allocate_costs."""
    return allocate_costs(normalize_rows(path, reference), reference.rules)
