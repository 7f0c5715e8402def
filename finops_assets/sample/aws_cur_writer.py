"""Sample AWS CUR 2.0 data exports for one day: a Parquet export and a CSV.gz export.

Accounts 1-3 of the estate's CUR accounts go to 'acme-cur2-parquet-00001.snappy.parquet',
the rest to 'acme-cur2-csv-00001.csv.gz', under landing/aws_cur/<day>/. Rows are resources x
24 hours, generated and written in chunks (Parquet row groups, CSV blocks) so memory stays
bounded at 10M rows a day. Same (day, seed, rows_per_day) -> same bytes (gzip mtime 0).
"""

import datetime as dt
import gzip
import io
import zlib
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from finops_assets.domain.sources.aws_cur import SOURCE
from finops_assets.sample.aws_cur_catalog import SAVINGS_PLAN_DISCOUNT, Export, resources
from finops_assets.sample.aws_cur_rows import (
    AMOUNT_COLUMNS,
    TEXT_COLUMNS,
    TIME_COLUMNS,
    fixed_rows,
    hourly_rows,
    resource_attributes,
)
from finops_assets.sample.estate import COST_CENTER_TAG_SPELLINGS, accounts_for_source

CHUNK_RESOURCES = 4_000  # ~100k hourly rows per chunk: one Parquet row group / CSV block
_TAG_COLUMNS = ("tag_key", "tag_value", "env_value")
OUTPUT_COLUMNS = tuple(
    sorted((*(c for c in TEXT_COLUMNS if c not in _TAG_COLUMNS), *TIME_COLUMNS, *AMOUNT_COLUMNS))
) + ("resource_tags",)
_PARQUET_SCHEMA = pa.schema(
    [
        (
            name,
            pa.decimal128(38, 10)
            if name in AMOUNT_COLUMNS
            else pa.timestamp("ms", tz="UTC")
            if name in TIME_COLUMNS
            else pa.map_(pa.string(), pa.string())
            if name == "resource_tags"
            else pa.string(),
        )
        for name in OUTPUT_COLUMNS
    ]
)


def exports() -> tuple[Export, ...]:
    """The two sample exports: the first three CUR accounts in Parquet, the others in CSV.gz."""
    accounts = accounts_for_source(SOURCE)
    return (
        Export("acme-cur2-parquet", "parquet", accounts[:3]),
        Export("acme-cur2-csv", "csv", accounts[3:]),
    )


def _amount_text(column: str) -> pl.Expr:
    """1e-10 integer units -> decimal text as AWS writes it ('0.0416', '-12.5', '3')."""
    units = pl.col(column)
    magnitude = units.abs()
    text = pl.concat_str(
        pl.when(units < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // 10**10).cast(pl.Utf8),
        pl.lit("."),
        (magnitude % 10**10).cast(pl.Utf8).str.zfill(10),
    )
    return text.str.strip_chars_end("0").str.strip_chars_end(".").alias(column)


def _tags_json() -> pl.Expr:
    pair = pl.concat_str(
        pl.lit('{"'), pl.col("tag_key"), pl.lit('":"'), pl.col("tag_value"),
        pl.lit('","user_environment":"'), pl.col("env_value"), pl.lit('"}'),
    )  # fmt: skip
    return pl.when(pl.col("tag_key").is_not_null()).then(pair).otherwise(pl.lit("{}"))


def _time_text(rows: pl.DataFrame, column: str) -> pl.Expr:
    """ISO text of a time column, formatted once per distinct value (hours repeat a lot)."""
    distinct = rows[column].unique().drop_nulls()
    texts = distinct.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    return pl.col(column).replace_strict(distinct, texts, default=None, return_dtype=pl.Utf8)


def _csv_block(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows as CUR 2.0 CSV text columns (amounts as decimal text, tags as JSON)."""
    times = [_time_text(rows, c).alias(c) for c in TIME_COLUMNS]
    out = rows.with_columns(
        *times, *[_amount_text(c) for c in AMOUNT_COLUMNS], resource_tags=_tags_json()
    )
    return out.select(OUTPUT_COLUMNS)


def _dictionary_strings(codes: np.ndarray, labels: list[str]) -> pa.Array:
    indices = pa.array(codes.astype(np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels, pa.string())).cast(pa.string())


def _tags_map(rows: pl.DataFrame) -> pa.Array:
    """The rows' tags as the Parquet map<string,string> AWS writes (empty map when untagged)."""
    tagged_rows = rows.select(_TAG_COLUMNS).filter(pl.col("tag_key").is_not_null())
    tagged = rows["tag_key"].is_not_null().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(np.where(tagged, 2, 0))]).astype(np.int32)
    key_labels = [f"user_{s}" for s in COST_CENTER_TAG_SPELLINGS] + ["user_environment"]
    value_labels = sorted(
        set(tagged_rows["tag_value"].unique()) | set(tagged_rows["env_value"].unique())
    )
    size = 2 * tagged_rows.height
    key_codes, value_codes = np.empty(size, np.int32), np.empty(size, np.int32)
    key_codes[0::2] = tagged_rows["tag_key"].cast(pl.Enum(key_labels)).to_physical().to_numpy()
    key_codes[1::2] = len(key_labels) - 1
    for target, column in ((0, "tag_value"), (1, "env_value")):
        codes = tagged_rows[column].cast(pl.Enum(value_labels)).to_physical().to_numpy()
        value_codes[target::2] = codes
    return pa.MapArray.from_arrays(
        pa.array(offsets),
        _dictionary_strings(key_codes, key_labels),
        _dictionary_strings(value_codes, value_labels),
    )


def _decimal_array(units: pl.Series) -> pa.Array:
    """Int64 1e-10 units -> Arrow decimal128(38, 10) with the same unscaled integers (exact)."""
    values = units.fill_null(0).to_numpy().astype(np.int64)
    words = np.empty((len(values), 2), dtype=np.int64)
    words[:, 0], words[:, 1] = values, np.where(values < 0, -1, 0)  # 128-bit two's complement
    valid = units.is_not_null().to_numpy()
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    data = pa.py_buffer(words.tobytes())
    return pa.Array.from_buffers(pa.decimal128(38, 10), len(values), [bitmap, data])


def _parquet_table(rows: pl.DataFrame) -> pa.Table:
    columns = []
    for name in OUTPUT_COLUMNS:
        if name in AMOUNT_COLUMNS:
            columns.append(_decimal_array(rows[name]))
        elif name == "resource_tags":
            columns.append(_tags_map(rows))
        else:
            columns.append(rows[name].to_arrow(compat_level=pl.CompatLevel.oldest()))
    return pa.Table.from_arrays(columns, names=list(OUTPUT_COLUMNS)).cast(_PARQUET_SCHEMA)


def _chunks(export: Export, day: dt.date, seed: int, count: int):
    """(rows of the chunk) for each chunk of resources, then the fixed lines."""
    stream = zlib.crc32(export.name.encode())
    rng = np.random.default_rng([seed, day.toordinal(), stream, 0])
    attrs = resource_attributes(export, resources(export, count, rng))
    num, den = SAVINGS_PLAN_DISCOUNT
    covered = attrs.filter(pl.col("covered"))
    commitment = int((covered["rate"] * 10**4 * num // den).sum() or 0)
    fixed_rng = np.random.default_rng([seed, day.toordinal(), stream, 1])
    yield fixed_rows(export, day, fixed_rng, commitment)
    for index, start in enumerate(range(0, count, CHUNK_RESOURCES)):
        chunk_rng = np.random.default_rng([seed, day.toordinal(), stream, 2, index])
        yield hourly_rows(attrs.slice(start, CHUNK_RESOURCES), day, export, chunk_rng)


def _with_ids(rows: pl.DataFrame, export: Export, day: dt.date, offset: int) -> pl.DataFrame:
    sequence = pl.int_range(offset, offset + rows.height, dtype=pl.Int64)
    return rows.with_columns(
        identity_line_item_id=pl.concat_str(
            pl.lit(f"{export.name}-{day:%Y%m%d}-"), sequence.cast(pl.Utf8).str.zfill(10)
        )
    )


def _write_export(path: Path, export: Export, day: dt.date, seed: int, count: int) -> None:
    offset = 0
    if export.file_format == "parquet":
        with pq.ParquetWriter(path, _PARQUET_SCHEMA, compression="snappy") as writer:
            for rows in _chunks(export, day, seed, count):
                writer.write_table(_parquet_table(_with_ids(rows, export, day, offset)))
                offset += rows.height
        return
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=3) as gz,
    ):
        for index, rows in enumerate(_chunks(export, day, seed, count)):
            block = io.BytesIO()
            _csv_block(_with_ids(rows, export, day, offset)).write_csv(
                block, include_header=index == 0
            )
            gz.write(block.getvalue())
            offset += rows.height


def write_day(landing_dir: Path, day: dt.date, seed: int, rows_per_day: int) -> list[Path]:
    """Write the day's two CUR 2.0 export files under landing/aws_cur/<day>/; returns the paths."""
    folder = Path(landing_dir) / SOURCE / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    all_exports = exports()
    total_accounts = sum(len(e.accounts) for e in all_exports)
    paths = []
    for export in all_exports:
        share = rows_per_day * len(export.accounts) // total_accounts
        count = max(len(export.accounts), share // 24)
        suffix = ".snappy.parquet" if export.file_format == "parquet" else ".csv.gz"
        path = folder / f"{export.name}-00001{suffix}"
        _write_export(path, export, day, seed, count)
        paths.append(path)
    return paths


def write_parquet_export(path: Path, day: dt.date, seed: int, rows_per_day: int) -> Path:
    """One CUR 2.0 Parquet export of every CUR account for the day, in bounded memory.

    For benchmarks that want a single input file of a given size (about rows_per_day rows).
    """
    export = Export("acme-cur2-all", "parquet", accounts_for_source(SOURCE))
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_export(path, export, day, seed, max(len(export.accounts), rows_per_day // 24))
    return path
