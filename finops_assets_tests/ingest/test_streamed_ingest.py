"""aws_cur_raw in bounded memory: a CUR day folded in tiny batches is the day parsed whole.

The same rows, quarantine, data version, contract failures (the file's lines) and money; rows
held past `memory_rows` go to disk and are written in one Delta commit. A day whose batches
were joined whole fails test_the_day_is_held_in_batches_not_whole.
"""

import datetime as dt
import io
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.sources import aws_cur
from finops_assets.ingest import pipeline
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.ingest.checks import raw_contract_result, raw_kept_money
from finops_assets.ingest.pipeline import DayStream, ingest_payloads
from finops_assets.ingest.streamed_ingest import StreamedRawDay
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.payloads import LandingFolder
from finops_assets.sample import aws_cur_writer
from finops_assets.storage import tables
from finops_assets.storage.archive import RawArchive
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.fingerprint import frames_fingerprint

DAY = dt.date(2026, 10, 1)
RAW = tables.raw_contract(aws_cur)
BAD_COST = (5, 700, 1500)  # rows (0-based) whose cost cannot be read: quarantined
OTHER_DAY = (10, 400, 901)  # rows dated the next day in a one-day file: contract failures
ORDER = ["x_source_file", "x_source_line", "x_column"]


@pytest.fixture(scope="module")
def cur_day(tmp_path_factory) -> bytes:
    """The estate's CUR 2.0 Parquet export of one day (2,000 rows, row groups of 256), costs
    as text with three unreadable, three rows dated the next day."""
    folder = tmp_path_factory.mktemp("cur")
    path = aws_cur_writer.write_parquet_export(folder / "x.parquet", DAY, seed=5, rows_per_day=2000)
    frame = pl.from_arrow(pq.read_table(path))
    assert isinstance(frame, pl.DataFrame)
    index, cost, start = (
        pl.int_range(pl.len()),
        "line_item_unblended_cost",
        "line_item_usage_start_date",
    )
    frame = frame.with_columns(
        pl.when(index.is_in(BAD_COST))
        .then(pl.lit("1,2x"))
        .otherwise(pl.col(cost).cast(pl.Utf8))
        .alias(cost),
        pl.when(index.is_in(OTHER_DAY))
        .then(pl.col(start) + pl.duration(days=1))
        .otherwise(pl.col(start))
        .alias(start),
    )
    buffer = io.BytesIO()
    pq.write_table(frame.to_arrow(), buffer, row_group_size=256, compression="zstd")
    return buffer.getvalue()


def _landed(tmp_path: Path, data: bytes, period: bool = False) -> LandingFolder:
    folder = tmp_path / "landing" / "aws_cur"
    folder = folder / ("20261001-20261001/cur2" if period else DAY.isoformat())
    folder.mkdir(parents=True)
    (folder / "cur-00001.snappy.parquet").write_bytes(data)
    return LandingFolder(tmp_path / "landing")


def _both(tmp_path: Path, data: bytes, period: bool = False, batch_rows: int = 97):
    landing = _landed(tmp_path, data, period)
    payloads = landing.fetch("aws_cur", DAY)
    whole = ingest_payloads(aws_cur, payloads, DAY, RawArchive(str(tmp_path / "a")))
    stream = DayStream(
        aws_cur, payloads, DAY, RawArchive(str(tmp_path / "b")), batch_rows=batch_rows
    )
    return whole, StreamedRawDay(aws_cur, RAW, stream, memory_rows=150)


@pytest.mark.parametrize("period", [False, True], ids=["day-file", "one-day-period-file"])
def test_a_day_in_tiny_batches_is_the_day_whole(tmp_path, cur_day, period):
    whole, streamed = _both(tmp_path, cur_day, period)
    with streamed:
        assert_frame_equal(pl.concat(list(streamed.rows())), whole.rows)
        assert_frame_equal(streamed.quarantine.sort(ORDER), whole.quarantine.sort(ORDER))
        assert streamed.data_version() == frames_fingerprint([whole.rows, whole.quarantine])
        assert streamed.contract_result() == raw_contract_result(RAW, whole.parsed_rows, DAY)
        kept = raw_kept_money(aws_cur, whole.rows)
        assert_frame_equal(streamed.kept_money().sort("currency"), kept.sort("currency"))
        assert_frame_equal(streamed.billed(), aws_cur.billed_totals(whole.rows))
    assert whole.quarantine["x_source_line"].is_in([b + 1 for b in BAD_COST]).sum() == 3
    if not period:  # rows of another day fail a one-day file, naming their lines
        failures = streamed.contract_result().failures
        assert [f["line"] for f in failures] == [r + 1 for r in OTHER_DAY]
        assert {f["file"] for f in failures} == {"aws_cur/2026-10-01/cur-00001.snappy.parquet"}


def test_the_day_is_held_in_batches_not_whole(tmp_path, cur_day):
    _, streamed = _both(tmp_path, cur_day)
    with streamed:
        sizes = [frame.height for frame in streamed.rows()]
        assert streamed.streamed  # past memory_rows, on disk
    assert len(sizes) == 21 and max(sizes) <= 97


def test_the_streamed_day_is_written_in_one_commit_as_the_whole_day(tmp_path, cur_day):
    whole, streamed = _both(tmp_path, cur_day, period=True)
    by_stream, by_frame = DeltaLake(str(tmp_path / "s")), DeltaLake(str(tmp_path / "w"))
    by_frame.write_day(RAW, whole.rows, DAY)
    with streamed:
        streamed.write(by_stream)
        streamed.write(by_stream)  # idempotent: the day replaced, not added to
    assert by_stream.version(RAW) == 1  # two writes, one commit each
    key = ["x_source_line"]
    assert_frame_equal(
        by_stream.read_day(RAW, DAY).sort(key), by_frame.read_day(RAW, DAY).sort(key)
    )


def test_a_day_without_payloads_is_the_empty_day_whole(tmp_path):
    whole = ingest_payloads(aws_cur, [], DAY, RawArchive(str(tmp_path / "a")))
    stream = DayStream(aws_cur, [], DAY, RawArchive(str(tmp_path / "b")))
    with StreamedRawDay(aws_cur, RAW, stream, memory_rows=150) as streamed:
        assert streamed.row_count == 0 and not list(streamed.rows())[0].height
        assert streamed.data_version() == frames_fingerprint([whole.rows, whole.quarantine])
        assert streamed.contract_result().passed
        assert_frame_equal(streamed.billed(), aws_cur.billed_totals(whole.rows))
        assert_frame_equal(streamed.kept_money(), raw_kept_money(aws_cur, whole.rows))


def _corrupt_second_row_group(data: bytes) -> bytes:
    """The file with the first data page of its second row group overwritten (zstd then fails)."""
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    offset = meta.row_group(1).column(0).data_page_offset
    broken = bytearray(data)
    broken[offset + 20 : offset + 60] = b"\xff" * 40
    return bytes(broken)


def test_a_file_unreadable_part_way_is_refused_whole_its_batches_dropped(tmp_path, cur_day):
    whole, streamed = _both(tmp_path, _corrupt_second_row_group(cur_day), batch_rows=97)
    with streamed:
        assert streamed.row_count == whole.rows.height == 0
        assert_frame_equal(streamed.quarantine, whole.quarantine)
        assert streamed.quarantine["x_column"].to_list() == ["<file>"]
        assert streamed.stream.refused[0]["file"] == "aws_cur/2026-10-01/cur-00001.snappy.parquet"
        assert streamed.data_version() == frames_fingerprint([whole.rows, whole.quarantine])


@pytest.mark.slow
def test_the_asset_writes_the_day_streamed_as_whole(tmp_path, cur_day, monkeypatch):
    """aws_cur_raw materialized with batches of 97 rows and of 100,000: the same table day,
    quarantine and data version."""
    _landed(tmp_path, cur_day, period=True)
    found = {}
    for batch_rows in (97, 100_000):
        monkeypatch.setattr(pipeline, "BATCH_ROWS", batch_rows)
        lake = tmp_path / f"lake{batch_rows}"
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                [build_raw_asset(aws_cur)],
                partition_key=DAY.isoformat(),
                instance=instance,
                resources={
                    "lake": LakeResource(lake_uri=str(lake)),
                    "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
                },
            )
            assert result.success
            event = result.get_asset_materialization_events()[0]
            version = event.materialization.tags["dagster/data_version"]
        delta = DeltaLake(str(lake))
        rows = delta.read_day(RAW, DAY).sort("x_source_line")
        quarantine = delta.read_day(tables.QUARANTINE, DAY).sort(ORDER)
        found[batch_rows] = (rows, quarantine, version, delta.version(RAW))
    streamed, whole = found[97], found[100_000]
    assert_frame_equal(streamed[0], whole[0])
    assert_frame_equal(streamed[1], whole[1])
    assert streamed[2] == whole[2] and streamed[3] == whole[3] == 0
    total = pq.ParquetFile(pa.BufferReader(cur_day)).metadata.num_rows
    assert streamed[1].height == len(BAD_COST)  # the other days' rows are theirs
    assert streamed[0].height == total - len(BAD_COST) - len(OTHER_DAY)
