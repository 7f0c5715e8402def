"""focus_cost_allocation's day staged slice by slice (publish/split_files.py): the files get the
whole day's rows in its order, by billing period, with the whole day's data version, lineage
version and failures, while no frame handed to the files holds more than one slice."""

import datetime as dt

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain import focus_allocation_day
from finops_assets.domain.focus_allocation import focus_split_rows
from finops_assets.domain.focus_allocation_contract import split_contract_failures
from finops_assets.publish.files import StagedDayFiles, write_day_by_billing_period
from finops_assets.publish.split_files import stage_split_day
from finops_assets.storage.fingerprint import frames_fingerprint, lineage_fingerprint
from finops_assets_tests.domain.test_focus_allocation_contract_exact import _big_day

DAY = dt.date(2026, 10, 1)
_ORIGINS, PARTS = _big_day(40)  # 120 parts, three per origin
# every third origin in the previous billing period: the day spans two periods' files
ORIGINS = _ORIGINS.with_columns(
    BillingPeriodStart=pl.when(pl.int_range(pl.len()) % 3 == 0)
    .then(pl.lit(dt.datetime(2026, 9, 1)))
    .otherwise(pl.lit(dt.datetime(2026, 10, 1)))
    .cast(_ORIGINS.schema["BillingPeriodStart"])
)


@pytest.fixture
def added(monkeypatch):
    """The heights of the frames StagedDayFiles.add received."""
    heights: list[int] = []
    original = StagedDayFiles.add

    def spy(self, rows):
        heights.append(rows.height)
        original(self, rows)

    monkeypatch.setattr(StagedDayFiles, "add", spy)
    return heights


def _read(root):
    return {f.relative_to(root): pl.read_parquet(f) for f in sorted(root.glob("*/*.parquet"))}


def test_a_day_in_slices_writes_the_whole_days_rows_and_versions(tmp_path, added, monkeypatch):
    monkeypatch.setattr(focus_allocation_day, "SLICE_PARTS", 20)  # the asset's setting, tiny
    whole = focus_split_rows(ORIGINS, PARTS)
    expected = write_day_by_billing_period(whole, tmp_path / "whole", DAY)
    assert len(expected) == 2
    staged = stage_split_day(ORIGINS, PARTS, tmp_path / "sliced", DAY)
    assert staged.failures == [] and staged.rows == whole.height == 120
    assert staged.data_version == frames_fingerprint([whole])
    assert staged.lineage == lineage_fingerprint([whole])
    assert len(added) >= 5 and max(added) <= 22  # ~20 parts a slice, never the day
    staged.files.publish()
    sliced, reference = _read(tmp_path / "sliced"), _read(tmp_path / "whole")
    assert list(sliced) == list(reference)
    for name, frame in reference.items():
        assert_frame_equal(sliced[name], frame)
    # what changed: a file holds one row group (or more) per slice
    any_file = tmp_path / "sliced" / next(iter(sliced))
    assert pq.ParquetFile(any_file).metadata.num_row_groups > 1
    assert not list((tmp_path / "sliced").glob("*/.*.tmp"))


def test_a_failing_day_stages_nothing_and_keeps_the_published_files(tmp_path):
    root = tmp_path / "root"
    stage_split_day(ORIGINS, PARTS, root, DAY, slice_parts=40).files.publish()
    before = {f: f.read_bytes() for f in root.glob("*/*.parquet")}
    origins = ORIGINS.with_columns(
        Tags=pl.when(pl.col("x_source_row_key").is_in(["k3", "k31"]))
        .then(pl.lit('{"x_BusinessUnit":"a"}'))
        .otherwise(pl.col("Tags"))
    )
    staged = stage_split_day(origins, PARTS, root, DAY, slice_parts=40)
    whole = focus_split_rows(origins, PARTS)
    assert staged.failures == focus_allocation_day.in_check_order(
        split_contract_failures(whole, origins)
    )
    assert len(staged.failures) == 6
    assert staged.data_version == frames_fingerprint([whole])
    staged.files.discard()
    assert {f: f.read_bytes() for f in root.glob("*/*.parquet")} == before
    assert not list(root.glob("*/.*.tmp"))


def test_rerunning_a_day_gives_identical_bytes_and_an_empty_day_no_file(tmp_path):
    root = tmp_path / "root"
    first = stage_split_day(ORIGINS, PARTS, root, DAY, slice_parts=40).files.publish()
    before = {f: f.read_bytes() for f in first}
    again = stage_split_day(ORIGINS, PARTS, root, DAY, slice_parts=40).files.publish()
    assert {f: f.read_bytes() for f in again} == before
    empty = stage_split_day(ORIGINS.clear(), PARTS.clear(), root, DAY)
    assert empty.rows == 0 and empty.failures == []
    assert empty.data_version == frames_fingerprint([focus_split_rows(ORIGINS, PARTS).clear()])
    assert empty.files.publish() == [] and not list(root.glob("*/*.parquet"))
