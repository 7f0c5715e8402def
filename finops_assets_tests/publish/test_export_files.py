"""focus_export's day staged slice by slice (publish/export_files.py): both FOCUS datasets get the
whole day's rows in its order, by billing period, with the whole day's data version, lineage
version and contract failures, while no frame made or written holds more than one slice.

The day is the public FOCUS 1.0 sample (public_data/focus-sample-data, 1,000 rows over two
billing periods) through parse, to_focus and normalize_costs with the shipped ECB rates.
"""

import datetime as dt

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain import focus_export_day
from finops_assets.domain.focus_versions import FOCUS13_SCHEMA, focus12_rows, focus13_rows
from finops_assets.domain.sources import focus_export
from finops_assets.publish.export_files import stage_export_day
from finops_assets.publish.files import StagedDayFiles, write_day_by_billing_period
from finops_assets.storage.fingerprint import frames_fingerprint, lineage_fingerprint
from finops_assets.storage.validation import validate_frame
from finops_assets_tests.normalized_days import normalized_in_usd

DAY = dt.date(2024, 9, 15)
FETCHED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
VERSIONS = ("1.2", "1.3")


@pytest.fixture(scope="module")
def normalized(shared_data) -> pl.DataFrame:
    path = shared_data / "focus-sample-data" / "FOCUS-1.0" / "focus_sample.csv"
    parsed = focus_export.parse(
        path.read_bytes(), source_file=path.name, ingestion_key="k", fetched_at=FETCHED
    )
    return pl.concat(normalized_in_usd(focus_export.to_focus(parsed.rows)))


@pytest.fixture
def heights(monkeypatch):
    """The heights of the frames the 1.3 rows were made of and the files were handed."""
    seen: dict[str, list[int]] = {"made": [], "added": []}
    made, add = focus_export_day.focus13_rows, StagedDayFiles.add

    def spy_made(frame):
        seen["made"].append(frame.height)
        return made(frame)

    def spy_add(self, rows):
        seen["added"].append(rows.height)
        add(self, rows)

    monkeypatch.setattr(focus_export_day, "focus13_rows", spy_made)
    monkeypatch.setattr(StagedDayFiles, "add", spy_add)
    return seen


def _whole(normalized: pl.DataFrame, root, day=DAY):
    """The whole-day path (what focus_export did before): both datasets whole, then written."""
    v12, v13 = focus12_rows(normalized), focus13_rows(normalized)
    for version, rows in zip(VERSIONS, (v12, v13), strict=True):
        write_day_by_billing_period(rows, root / version, day)
    return v12, v13


def _read(root):
    return {f.relative_to(root): pl.read_parquet(f) for f in sorted(root.glob("*/*/*.parquet"))}


def _bytes(root):
    return {f: f.read_bytes() for f in sorted(root.glob("*/*/*.parquet"))}


def _roots(root):
    return [root / version for version in VERSIONS]


def test_a_day_in_slices_writes_the_whole_days_files_and_versions(
    normalized, tmp_path, heights, monkeypatch
):
    monkeypatch.setattr(focus_export_day, "SLICE_ROWS", 70)  # the asset's setting, tiny
    v12, v13 = _whole(normalized, tmp_path / "whole")
    heights["made"].clear()
    staged = stage_export_day(normalized, _roots(tmp_path / "sliced"), DAY)
    assert staged.failures == validate_frame(FOCUS13_SCHEMA, v13)
    assert staged.failures.passed and staged.rows == v12.height == 1000
    assert staged.data_version == frames_fingerprint([v12, v13])
    assert staged.lineage == lineage_fingerprint([v12, v13])
    # ~70 rows a slice, never the whole day: made, checked and handed to the files
    assert len(heights["made"]) == 15 and max(heights["made"]) == 70
    assert max(heights["added"]) <= 70
    staged.files.publish()
    sliced, reference = _read(tmp_path / "sliced"), _read(tmp_path / "whole")
    assert len(reference) == 4 and list(sliced) == list(reference)  # 2 versions x 2 periods
    for name, frame in reference.items():
        assert_frame_equal(sliced[name], frame)
    # what changed: a file holds one row group (or more) per slice
    biggest = max(sliced, key=lambda name: sliced[name].height)
    assert pq.ParquetFile(tmp_path / "sliced" / biggest).metadata.num_row_groups > 1
    assert not list((tmp_path / "sliced").glob("*/*/.*.tmp"))


def _broken(normalized: pl.DataFrame, nulls=range(600, 640)) -> pl.DataFrame:
    """Failures of every kind of check, in several slices (by default more than validate_frame
    shows: 40 null InvoiceIssuerName first)."""
    row = pl.int_range(pl.len())

    def at(rows, value, column):
        return pl.when(row.is_in(rows)).then(value).otherwise(pl.col(column)).alias(column)

    return normalized.with_columns(
        at(list(nulls), pl.lit(None, pl.Utf8), "InvoiceIssuerName"),  # not_nullable
        at([5, 500, 999], pl.lit(None, pl.Utf8), "ServiceCategory"),
        at([300], pl.lit("usd"), "BillingCurrency"),  # str_matches
        at([10, 900], pl.lit("Maybe"), "CapacityReservationStatus"),  # isin
        at([20, 700], pl.lit(1).cast(pl.Decimal(38, 10)), "CommitmentDiscountQuantity"),  # frame
        at([40], pl.col("ChargePeriodStart"), "ChargePeriodEnd"),  # frame check
    ).with_columns(at([20, 700], pl.lit(None, pl.Utf8), "CommitmentDiscountUnit"))


def test_a_failing_day_has_the_whole_days_failures_and_keeps_the_published_files(
    normalized, tmp_path, monkeypatch
):
    monkeypatch.setattr(focus_export_day, "SLICE_ROWS", 70)
    root = tmp_path / "root"
    stage_export_day(normalized, _roots(root), DAY).files.publish()
    before = _bytes(root)
    assert len(before) == 4
    broken = _broken(normalized)
    staged = stage_export_day(broken, _roots(root), DAY)
    v12, v13 = focus12_rows(broken), focus13_rows(broken)
    whole = validate_frame(FOCUS13_SCHEMA, v13)
    assert not whole.passed and whole.failure_count == 40 + 3 + 1 + 2 + 2 + 1
    assert staged.failures == whole  # the same count, the same first 20, in the same order
    assert staged.data_version == frames_fingerprint([v12, v13])
    staged.files.discard()
    assert _bytes(root) == before
    assert not list(root.glob("*/*/.*.tmp"))


def test_failures_listed_after_the_first_20_come_out_in_the_whole_days_order(
    normalized, monkeypatch
):
    few = _broken(normalized, nulls=[610])  # fewer than shown: every check's failures listed
    whole = validate_frame(FOCUS13_SCHEMA, focus13_rows(few))
    assert whole.failure_count == 10 and len(whole.failures) == 10
    for rows in (70, 333):
        monkeypatch.setattr(focus_export_day, "SLICE_ROWS", rows)
        outcome = focus_export_day.ContractCases()
        for _v12, _v13, cases in focus_export_day.export_slices(few):
            outcome.add(cases)
        assert outcome.outcome() == (whole.failure_count, whole.failures), rows


def test_rerunning_a_day_gives_identical_bytes_and_an_empty_day_no_file(normalized, tmp_path):
    root = tmp_path / "root"
    first = stage_export_day(normalized, _roots(root), DAY, slice_rows=300).files.publish()
    before = {f: f.read_bytes() for f in first}
    again = stage_export_day(normalized, _roots(root), DAY, slice_rows=300).files.publish()
    assert {f: f.read_bytes() for f in again} == before
    empty = stage_export_day(normalized.clear(), _roots(root), DAY)
    v12, v13 = focus12_rows(normalized.clear()), focus13_rows(normalized.clear())
    assert empty.rows == 0 and empty.failures.passed
    assert empty.data_version == frames_fingerprint([v12, v13])
    assert empty.files.publish() == [] and not list(root.glob("*/*/*.parquet"))
