"""Streamed day writes and chunked day reads on real Delta tables in a temp folder."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.money import MONEY
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DayOutOfRangeError, DeltaLake
from finops_assets.storage.spill import SpillFolder

CONTRACT = TableContract(
    name="costs",
    columns={"x_charge_date": pl.Date(), "x_key": pl.Utf8(), "cost": MONEY},
    partition_by=("x_charge_date",),
)
DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)


def rows(day: dt.date, start: int, count: int) -> pl.DataFrame:
    keys = range(start, start + count)
    return pl.DataFrame(
        {
            "x_charge_date": [day] * count,
            "x_key": [f"k{i:06d}" for i in keys],
            "cost": [Decimal(i).scaleb(-2) for i in keys],
        },
        schema=CONTRACT.schema,
    )


def test_a_streamed_day_is_one_commit_with_every_frame(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, rows(DAY2, 0, 3), DAY2)
    before = lake.version(CONTRACT)
    version = lake.write_day_stream(CONTRACT, (rows(DAY1, i * 100, 100) for i in range(5)), DAY1)
    assert version == lake.version(CONTRACT) == (before or 0) + 1
    day = lake.read_day(CONTRACT, DAY1).sort("x_key")
    assert_frame_equal(day, rows(DAY1, 0, 500))
    assert lake.read_day(CONTRACT, DAY2).height == 3  # the other day is untouched


def test_a_failure_while_streaming_commits_nothing_and_is_raised(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, rows(DAY1, 0, 7), DAY1)
    version = lake.version(CONTRACT)

    def frames_then_failure():
        yield rows(DAY1, 100, 50)
        raise RuntimeError("conservation check failed")

    with pytest.raises(RuntimeError, match="conservation check failed"):
        lake.write_day_stream(CONTRACT, frames_then_failure(), DAY1)
    assert lake.version(CONTRACT) == version
    assert_frame_equal(lake.read_day(CONTRACT, DAY1).sort("x_key"), rows(DAY1, 0, 7))


def test_a_streamed_frame_of_another_day_is_refused(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, rows(DAY1, 0, 2), DAY1)
    with pytest.raises(DayOutOfRangeError, match="2026-10-02"):
        lake.write_day_stream(CONTRACT, [rows(DAY1, 0, 5), rows(DAY2, 5, 1)], DAY1)
    assert lake.read_day(CONTRACT, DAY1).height == 2


def test_a_day_reads_back_in_chunks_of_the_asked_size(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, rows(DAY1, 0, 1_000), DAY1)
    lake.write_day(CONTRACT, rows(DAY2, 0, 10), DAY2)
    assert lake.count_day(CONTRACT, DAY1) == 1_000
    chunks = list(lake.read_day_chunks(CONTRACT, DAY1, ["x_key", "cost"], 300))
    assert [c.height for c in chunks] == [300, 300, 300, 100]
    assert chunks[0].schema == pl.Schema({"x_key": pl.Utf8(), "cost": MONEY})
    back = pl.concat(chunks).sort("x_key")
    assert_frame_equal(back, rows(DAY1, 0, 1_000).select("x_key", "cost"))
    narrow = lake.read_day_columns(CONTRACT, DAY1, ["cost"])
    assert narrow.columns == ["cost"] and narrow.height == 1_000


def test_a_missing_table_counts_and_reads_nothing(tmp_path):
    lake = DeltaLake(str(tmp_path))
    assert lake.count_day(CONTRACT, DAY1) == 0
    assert list(lake.read_day_chunks(CONTRACT, DAY1, ["cost"], 10)) == []


def test_spilled_frames_come_back_equal_and_the_folder_is_removed(tmp_path):
    with SpillFolder(tmp_path) as spill:
        take = spill.hold(rows(DAY1, 0, 20))
        assert len(list(spill.path.iterdir())) == 1
        assert_frame_equal(take(), rows(DAY1, 0, 20))
    assert list(tmp_path.iterdir()) == []
