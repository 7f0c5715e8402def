"""focus_cost_allocation's day in slices of origin charges gives the whole day's rows, order,
data version and contract failures (row indexes over the whole day)."""

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.focus_allocation import (
    PART_COLUMNS,
    AllocationOriginError,
    focus_split_rows,
)
from finops_assets.domain.focus_allocation_contract import split_contract_failures
from finops_assets.domain.focus_allocation_day import key_ranges, split_day
from finops_assets.storage.fingerprint import frames_fingerprint
from finops_assets_tests.domain.test_focus_allocation import parts
from finops_assets_tests.domain.test_focus_allocation_contract_exact import _big_day

ORIGINS, PARTS = _big_day(40)  # 120 parts, three per origin


def _by_check(failures: list[dict]) -> list[tuple]:
    return sorted((f["check"], f["index"], f["failure_case"]) for f in failures)


@pytest.mark.parametrize("slice_parts", [1, 7, 50, 120, 10_000])
def test_slices_give_the_whole_days_rows_in_its_order(slice_parts):
    whole = focus_split_rows(ORIGINS, PARTS)
    split, failures = split_day(
        ORIGINS, PARTS.sample(fraction=1, shuffle=True, seed=3), slice_parts
    )
    assert_frame_equal(split, whole)
    assert frames_fingerprint([split]) == frames_fingerprint([whole])
    assert failures == []


def test_a_slice_never_cuts_an_origins_parts():
    ranges = key_ranges(PARTS["x_source_row_key"], 7)
    assert len(ranges) > 10
    for low, high in ranges:
        keys = PARTS.filter(
            (pl.col("x_source_row_key") >= low)
            & ((pl.col("x_source_row_key") < high) if high else pl.lit(True))
        )
        assert keys.group_by("x_source_row_key").len()["len"].to_list() == [3] * (keys.height // 3)


def test_failures_name_the_whole_days_rows():
    origins = ORIGINS.with_columns(
        Tags=pl.when(pl.col("x_source_row_key").is_in(["k3", "k31"]))
        .then(pl.lit('{"x_BusinessUnit":"a"}'))
        .otherwise(pl.col("Tags"))
    )
    whole = focus_split_rows(origins, PARTS)
    expected = split_contract_failures(whole, origins)
    assert {f["check"] for f in expected} == {"allocated_tags_not_in_tags"}
    _, failures = split_day(origins, PARTS, 10)
    assert _by_check(failures) == _by_check(expected)
    assert len(failures) == 6


def test_a_part_without_origin_fails_the_day_before_any_slice():
    orphan = parts(("zz-missing", "x", "1", "1", "1", "tag", "t")).select(PART_COLUMNS)
    with pytest.raises(AllocationOriginError, match="1 allocated parts .*'zz-missing'"):
        split_day(ORIGINS, pl.concat([PARTS.select(PART_COLUMNS), orphan]), 10)


def test_an_empty_day_gives_no_rows():
    split, failures = split_day(ORIGINS.clear(), PARTS.clear(), 10)
    assert split.height == 0 and failures == []
    assert split.columns == focus_split_rows(ORIGINS, PARTS).columns
