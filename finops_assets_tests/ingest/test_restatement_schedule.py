"""The restatement schedule: which days it re-ingests, and the ranged run it asks for."""

import datetime as dt

import dagster as dg
import pytest

from finops_assets.definitions import defs
from finops_assets.ingest.schedules import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    RESTATED,
    restatement_schedule,
    restatement_window,
)

D = dt.date


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # mid-month: the last 3 complete days only
        (D(2026, 11, 20), (D(2026, 11, 17), D(2026, 11, 19))),
        (D(2026, 11, 6), (D(2026, 11, 3), D(2026, 11, 5))),
        # until the 5th: the whole previous month too (and this month's days so far)
        (D(2026, 11, 5), (D(2026, 10, 1), D(2026, 11, 4))),
        (D(2026, 12, 1), (D(2026, 11, 1), D(2026, 11, 30))),
        # across a year boundary, and a leap February
        (D(2027, 1, 2), (D(2026, 12, 1), D(2027, 1, 1))),
        (D(2028, 3, 1), (D(2028, 2, 1), D(2028, 2, 29))),
        # never before the first partition day, never today
        (D(2026, 10, 2), (D(2026, 10, 1), D(2026, 10, 1))),
        (D(2026, 10, 1), None),
    ],
)
def test_window_for_dates_around_month_boundaries(today, expected):
    assert restatement_window(today) == expected


def test_window_is_configurable():
    assert restatement_window(D(2026, 11, 20), trailing_days=7) == (
        D(2026, 11, 13),
        D(2026, 11, 19),
    )
    assert restatement_window(D(2026, 11, 8), close_day=10)[0] == D(2026, 10, 1)
    assert restatement_window(D(2026, 11, 3), close_day=0) == (D(2026, 10, 31), D(2026, 11, 2))


def _evaluate(when: dt.datetime):
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        return restatement_schedule.evaluate_tick(context)


@pytest.mark.slow
def test_schedule_asks_for_one_ranged_run_of_the_window(monkeypatch):
    monkeypatch.delenv("FINOPS_RESTATEMENT_DAYS", raising=False)
    result = _evaluate(dt.datetime(2026, 11, 3, 6, tzinfo=dt.UTC))
    [request] = result.run_requests
    assert request.tags[RANGE_START_TAG] == "2026-10-01"
    assert request.tags[RANGE_END_TAG] == "2026-11-02"
    assert request.run_key == "restate:2026-11-03"


@pytest.mark.slow
def test_schedule_reads_its_window_from_settings(monkeypatch):
    monkeypatch.setenv("FINOPS_RESTATEMENT_DAYS", "1")
    monkeypatch.setenv("FINOPS_RESTATEMENT_CLOSE_DAY", "0")
    [request] = _evaluate(dt.datetime(2026, 11, 3, 6, tzinfo=dt.UTC)).run_requests
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2026-11-02",) * 2


@pytest.mark.slow
def test_schedule_targets_the_api_sources_and_their_downstream():
    with dg.instance_for_test():  # resolving the graph looks up the current instance
        keys = {k.to_user_string() for k in RESTATED.resolve(defs.resolve_asset_graph())}
    assert {"aws_cost_explorer_raw", "azure_cost_raw", "normalized_costs"} <= keys
    assert "aws_cur_raw" not in keys and "gcp_billing_export_raw" not in keys
    # a day fetched for the first time needs its rule version before allocated_costs runs;
    # the preview is run on request only
    assert "applicable_rules" in keys and "allocated_costs" in keys
    assert "allocation_preview" not in keys
