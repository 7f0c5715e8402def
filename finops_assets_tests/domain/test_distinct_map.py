"""map_distinct gives map_elements' results, calling the function once per distinct value."""

import json

import polars as pl
import pytest
from polars.testing import assert_series_equal

from finops_assets.domain.distinct_map import map_distinct, map_distinct_series
from finops_assets.domain.focus_later_checks import _is_json_object
from finops_assets.domain.sources.azure_focus_later import readable_info_expr

TEXTS = ['{"a":1}', None, "[1]", '{"a":1}', "not json", "", None, '"x"', "{}", "[1]"]


@pytest.mark.parametrize("texts", [TEXTS, [None, None], [], ['{"a":1}'] * 5])
def test_results_equal_map_elements_and_nulls_stay_null(texts):
    values = pl.Series("v", texts, dtype=pl.Utf8)
    expected = values.map_elements(_is_json_object, return_dtype=pl.Boolean)
    assert_series_equal(map_distinct_series(values, _is_json_object, pl.Boolean()), expected)


def test_the_function_runs_once_per_distinct_value():
    seen: list[str] = []

    def parse(text: str) -> bool:
        seen.append(text)
        return isinstance(json.loads(text), dict)

    frame = pl.DataFrame({"v": ['{"a":1}', "[2]", '{"a":1}', None] * 1000})
    got = frame.select(map_distinct(pl.col("v"), parse, pl.Boolean())).to_series()
    assert got.to_list()[:4] == [True, False, True, None]
    assert sorted(seen) == ["[2]", '{"a":1}']


def test_struct_rows_are_passed_as_map_elements_passes_them():
    frame = pl.DataFrame({"a": ["x", None, "x", "y"], "b": [None, None, None, "z"]})

    def joined(row: dict) -> str:
        return f"{row['a']}|{row['b']}"

    expected = frame.select(pl.struct("a", "b").map_elements(joined, return_dtype=pl.Utf8))
    got = frame.select(map_distinct(pl.struct("a", "b"), joined, pl.Utf8()))
    assert_series_equal(got.to_series(), expected.to_series())


def test_additional_info_that_is_not_an_object_is_unreadable():
    frame = pl.DataFrame({"i": ['{"a":1}', " ", None, "[1]", "{bad", ' {"b":2} ']})
    got = frame.select(readable_info_expr("i")).to_series().to_list()
    assert got == [True, True, True, False, False, True]
