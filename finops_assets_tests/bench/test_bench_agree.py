"""The benchmark's implementations compute the same thing: (a) ours, (b) DuckDB, (c) naive."""

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench import chunked, duck, naive
from bench.incremental import measure
from bench.ours import normalize_and_allocate, normalize_rows, scan_cur_raw
from bench.reference import DAY, FETCHED_AT, INGESTION_KEY, load_reference, strided_sample
from finops_assets.domain.allocate import allocate_chunks, allocate_costs
from finops_assets.domain.sources import aws_cur
from finops_assets.sample.aws_cur_writer import write_parquet_export
from finops_assets.storage.spill import SpillFolder


@pytest.fixture(scope="module")
def cur_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CUR 2.0 Parquet day of every sample account (~6k rows)."""
    folder = tmp_path_factory.mktemp("bench")
    return write_parquet_export(folder / "cur.parquet", DAY, 7, 6_000)


@pytest.fixture(scope="module")
def reference():
    """The shipped reference data with EUR as the base currency (USD costs are converted)."""
    return load_reference("EUR")


def test_scan_reads_what_parse_reads(cur_day: Path) -> None:
    """(a)'s pl.scan_parquet reader gives exactly aws_cur.parse's typed raw rows."""
    parsed = aws_cur.parse(
        cur_day.read_bytes(),
        source_file=cur_day.name,
        ingestion_key=INGESTION_KEY,
        fetched_at=FETCHED_AT,
    )
    assert parsed.quarantine.is_empty()
    assert_frame_equal(scan_cur_raw(cur_day, cur_day.name).collect(), parsed.rows)


@pytest.mark.slow
def test_three_implementations_agree_to_the_unit(cur_day: Path, reference) -> None:
    """Totals per business unit (rows and four money sums) of (a), (b) and (c) are identical."""
    naive_totals = naive.normalize_and_allocate(cur_day, reference)
    assert set(naive_totals) >= {"payments", "search", "data-platform", "unallocated"}
    assert chunked.normalize_and_allocate(cur_day, reference) == naive_totals
    assert duck.normalize_and_allocate(cur_day, reference) == naive_totals


def test_chunked_day_equals_the_whole_day(cur_day: Path, reference) -> None:
    """Allocating a day in chunks with the day's driver measures changes nothing."""
    whole = chunked.normalize_and_allocate(cur_day, reference, chunk_rows=10**9)
    in_chunks = chunked.normalize_and_allocate(cur_day, reference, 1_500)
    assert chunked.normalize_and_allocate(cur_day, reference, 1_500, overlap=False) == whole
    assert in_chunks == whole


def test_strided_sample_keeps_every_kth_row(cur_day: Path) -> None:
    """The naive sample is every k-th row of the day, the Parquet schema kept."""
    sample = strided_sample(cur_day, 1_000)
    rows = pl.read_parquet(cur_day)
    step = rows.height // 1_000
    assert_frame_equal(pl.read_parquet(sample), rows.gather_every(step))


def test_incremental_measure_times_both_tables(cur_day: Path, reference, monkeypatch) -> None:
    """Day N written and read back on a table with history and on an empty one."""
    monkeypatch.setattr("bench.incremental.DATA_DIR", cur_day.parent)
    day = normalize_and_allocate(cur_day, reference)
    result = measure(day, history_days=3, history_rows=100, repeats=1)
    assert result["history_days"] == 3
    assert result["history_seconds"] > 0 and result["empty_seconds"] > 0
    assert result["ratio"] == result["history_seconds"] / result["empty_seconds"]


def test_chunks_allocate_as_the_whole_day(cur_day: Path, reference, tmp_path: Path) -> None:
    """allocate_chunks over three chunks (pooled rows spilled) == allocate_costs of the day."""
    normalized = normalize_rows(cur_day, reference)
    whole = allocate_costs(normalized, reference.rules)
    chunks = [normalized.slice(0, 2_000), normalized.slice(2_000, 1_000), normalized.slice(3_000)]
    with SpillFolder(tmp_path) as spill:
        parts = list(allocate_chunks(chunks, reference.rules, hold=spill.hold))
        spilled = len(list(spill.path.iterdir()))  # one file per chunk with pooled rows
    assert spilled >= 2
    assert not list(tmp_path.iterdir())  # the spill folder is gone
    assert len(parts) == 3 + spilled  # the chunks' whole rows, then the split pooled rows
    in_chunks = pl.concat(parts).sort("x_source_row_key", "x_business_unit")
    assert_frame_equal(in_chunks, whole.sort("x_source_row_key", "x_business_unit"))


@pytest.mark.slow
def test_a_31_day_cur_file_is_parsed_once_with_the_same_rows_and_total(capsys):
    from bench import period_parse

    assert period_parse.main(["--rows-per-day", "100"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["parsed_once"]["parses"] == 1
    assert result["parsed_daily"]["parses"] == 31
    assert result["same_rows_and_total"] and result["rows"] > 0
