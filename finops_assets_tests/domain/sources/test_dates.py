"""Charge dates in every form real exports use, read from the rows (never from a file's time)."""

import datetime as dt

import polars as pl
import pytest

from finops_assets.domain.sources.dates import parse_date_text_expr, parse_timestamp_text_expr

UTC = dt.UTC

CASES = {
    "2024-03-01": dt.datetime(2024, 3, 1, tzinfo=UTC),
    "2024-03-01T05:06:07Z": dt.datetime(2024, 3, 1, 5, 6, 7, tzinfo=UTC),
    "2024-03-01T05:06:07.250Z": dt.datetime(2024, 3, 1, 5, 6, 7, 250000, tzinfo=UTC),
    "2024-03-01 05:06:07": dt.datetime(2024, 3, 1, 5, 6, 7, tzinfo=UTC),
    "2024-03-01T05:06Z": dt.datetime(2024, 3, 1, 5, 6, tzinfo=UTC),
    "2024-03-01T23:30:00-05:00": dt.datetime(2024, 3, 2, 4, 30, tzinfo=UTC),
    "2024-03-01T01:00:00+0200": dt.datetime(2024, 2, 29, 23, 0, tzinfo=UTC),
    "2020-11-09 23:00:00+00:00": dt.datetime(2020, 11, 9, 23, 0, tzinfo=UTC),
    "2020-11-09 23:00:00 UTC": dt.datetime(2020, 11, 9, 23, 0, tzinfo=UTC),
    "3/1/2024": dt.datetime(2024, 3, 1, tzinfo=UTC),
    "03/01/2024": dt.datetime(2024, 3, 1, tzinfo=UTC),
    "3/1/24": dt.datetime(2024, 3, 1, tzinfo=UTC),
    "12/31/23": dt.datetime(2023, 12, 31, tzinfo=UTC),
    "9/1/2020 12:00:00 AM": dt.datetime(2020, 9, 1, 0, 0, tzinfo=UTC),
    "9/1/2020 1:05:00 PM": dt.datetime(2020, 9, 1, 13, 5, tzinfo=UTC),
    "9/1/2020 13:05": dt.datetime(2020, 9, 1, 13, 5, tzinfo=UTC),
    "20240301": dt.datetime(2024, 3, 1, tzinfo=UTC),
    " 2024-03-01 ": dt.datetime(2024, 3, 1, tzinfo=UTC),
}
BAD = ["", "yesterday", "2024-02-30", "13/1/2024", "2/30/2024", "2024031", None]


def _parse(texts: list[str | None]) -> list:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.Utf8})
    return frame.select(parse_timestamp_text_expr(pl.col("t")))["t"].to_list()


@pytest.mark.parametrize(("text", "expected"), sorted(CASES.items()))
def test_each_real_form_is_read_in_utc(text, expected):
    assert _parse([text]) == [expected]


def test_unreadable_dates_are_null_never_guessed():
    assert _parse(BAD) == [None] * len(BAD)


def test_the_charge_day_is_the_utc_day():
    frame = pl.DataFrame({"t": ["2024-03-01T23:30:00-05:00", "3/1/24", "20240301"]})
    days = frame.select(parse_date_text_expr(pl.col("t")))["t"].to_list()
    assert days == [dt.date(2024, 3, 2), dt.date(2024, 3, 1), dt.date(2024, 3, 1)]
