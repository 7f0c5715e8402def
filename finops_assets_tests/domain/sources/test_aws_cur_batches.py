"""aws_cur.parse_batches: a CUR Parquet file read in record batches gives `parse`'s result.

The same rows and quarantine in the same order, the file's own line numbers across batches,
and never more than `batch_rows` rows held per batch (a reader that joins the batches whole
fails the last test).
"""

import datetime as dt
import io

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.sources import aws_cur
from finops_assets.domain.sources.common import SourceFormatError
from finops_assets.sample import aws_cur_writer

FETCHED = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
KEY = "aws:1:2018-06-01:k"


def _kwargs(name: str) -> dict:
    return {"source_file": name, "ingestion_key": KEY, "fetched_at": FETCHED}


def _joined(data: bytes, name: str, batch_rows: int) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    results = list(aws_cur.parse_batches(data, batch_rows=batch_rows, **_kwargs(name)))
    rows = pl.concat([r.rows for r in results])
    quarantine = pl.concat([r.quarantine for r in results])
    return rows, quarantine, len(results)


def _koku_parquet(shared_data, bad_lines: tuple[int, ...] = ()) -> bytes:
    """koku's public legacy CUR CSV (19 rows) as Parquet, text columns as they were written;
    the rows at `bad_lines` (0-based) get an unreadable cost, to be quarantined."""
    path = shared_data / "koku" / "aws" / "test_cur.csv"
    frame = pl.read_csv(path, infer_schema=False)
    cost = "lineItem/UnblendedCost"
    index = pl.int_range(pl.len())
    frame = frame.with_columns(
        pl.when(index.is_in(list(bad_lines)))
        .then(pl.lit("12,5x"))
        .otherwise(pl.col(cost))
        .alias(cost)
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("batch_rows", [1, 4, 7, 19, 1000])
def test_a_public_cur_in_tiny_batches_is_the_whole_file(shared_data, batch_rows):
    data = _koku_parquet(shared_data, bad_lines=(2, 9, 18))
    whole = aws_cur.parse(data, **_kwargs("test_cur.parquet"))
    rows, quarantine, _ = _joined(data, "test_cur.parquet", batch_rows)
    assert whole.rows.height == 16 and whole.quarantine.height == 3
    assert_frame_equal(rows, whole.rows)
    assert_frame_equal(quarantine, whole.quarantine)
    assert quarantine["x_source_line"].to_list() == [3, 10, 19]  # the file's rows, not a batch's
    assert quarantine["x_column"].to_list() == ["line_item_unblended_cost"] * 3


def test_the_sample_export_in_batches_is_the_whole_file(tmp_path):
    """Dictionary-encoded text, map tags and decimal amounts, as the estate's exports write."""
    path = aws_cur_writer.write_parquet_export(
        tmp_path / "cur.parquet", dt.date(2024, 1, 1), seed=3, rows_per_day=2000
    )
    data = path.read_bytes()
    whole = aws_cur.parse(data, **_kwargs("cur.parquet"))
    rows, quarantine, batches = _joined(data, "cur.parquet", 333)
    assert whole.rows.height > 1000 and batches > 3
    assert_frame_equal(rows, whole.rows)
    assert_frame_equal(quarantine, whole.quarantine)


def test_each_batch_holds_at_most_batch_rows_rows(shared_data):
    data = _koku_parquet(shared_data)
    results = list(aws_cur.parse_batches(data, batch_rows=4, **_kwargs("test_cur.parquet")))
    assert [r.rows.height for r in results] == [4, 4, 4, 4, 3]
    assert results[1].rows["x_source_line"].to_list() == [5, 6, 7, 8]


def test_an_empty_parquet_without_cur_columns_is_still_refused():
    buffer = io.BytesIO()
    pl.DataFrame(schema={"a": pl.Utf8}).write_parquet(buffer)
    with pytest.raises(SourceFormatError, match="missing column"):
        list(aws_cur.parse_batches(buffer.getvalue(), batch_rows=10, **_kwargs("x.parquet")))


def test_a_csv_comes_whole(shared_data):
    path = shared_data / "koku" / "aws" / "test_cur.csv"
    data = path.read_bytes()
    results = list(aws_cur.parse_batches(data, batch_rows=4, **_kwargs(path.name)))
    whole = aws_cur.parse(data, **_kwargs(path.name))
    assert len(results) == 1
    assert_frame_equal(results[0].rows, whole.rows)
