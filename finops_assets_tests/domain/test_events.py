"""Budget threshold events: stable ids, no repeat alerts, resolution, structured JSON."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured_event

from finops_assets.domain.budgets import Budget, budget_status
from finops_assets.domain.events import (
    BUDGET_EVENTS_COLUMNS,
    CROSSED,
    RESOLVED,
    budget_threshold_events,
    event_to_json,
    events_frame,
    fired_state,
    resolved_event_id,
    threshold_event_id,
)
from finops_assets.domain.money import MONEY

MARKETING = Budget(
    "bu-marketing-web",
    "business_unit",
    "marketing-web",
    Decimal("2000"),
    "USD",
    (50, 80, 100),
    enforcement="hard",
)
ML = Budget(
    "bu-ml", "business_unit", "ml-research", Decimal("100"), "USD", (80, 100), basis="forecast"
)


def allocated(rows: list[tuple[date, str, str]]) -> pl.DataFrame:
    """Allocated cost rows (day, business unit, effective cost) with the columns budgets read."""
    return pl.DataFrame(
        {
            "x_charge_date": [r[0] for r in rows],
            "x_provider": ["aws"] * len(rows),
            "x_business_unit": [r[1] for r in rows],
            "x_effective_cost_base": [Decimal(r[2]) for r in rows],
        },
        schema_overrides={"x_charge_date": pl.Date, "x_effective_cost_base": MONEY},
    )


def status_on(day: int, rows: list[tuple[int, str, str]], budgets: list[Budget]) -> pl.DataFrame:
    frame = allocated([(date(2026, 10, d), unit, cost) for d, unit, cost in rows])
    return budget_status(frame, budgets, date(2026, 10, day))


def test_crossed_events_carry_deterministic_identity_and_data() -> None:
    status = status_on(
        2, [(1, "marketing-web", "900"), (2, "marketing-web", "700.005")], [MARKETING]
    )
    events = budget_threshold_events(status, [MARKETING], None)
    assert [e.get_data()["threshold_percent"] for e in events] == [50, 80]  # type: ignore[index]
    first = events[0]
    assert first.get_id() == threshold_event_id("bu-marketing-web", "2026-10", 50, "actual")
    assert first.get_type() == CROSSED
    assert first.get_source() == "/finops_assets/budgets"
    assert first.get_subject() == "business_unit/marketing-web"
    assert first.get_time() == datetime(2026, 10, 2, 23, 59, 59, tzinfo=UTC)
    assert first.get_data() == {
        "budget_id": "bu-marketing-web",
        "scope": {"kind": "business_unit", "value": "marketing-web"},
        "month": "2026-10",
        "threshold_percent": 50,
        "basis": "actual",
        "actual_mtd": "1600.01",
        "forecast_month_end": first.get_data()["forecast_month_end"],  # type: ignore[index]
        "budget_amount": "2000.00",
        "currency": "USD",
        "enforcement": "hard",
    }


def test_rerun_gives_identical_bytes_and_no_second_alert() -> None:
    status = status_on(2, [(1, "marketing-web", "2500")], [MARKETING])
    first = budget_threshold_events(status, [MARKETING], None)
    again = budget_threshold_events(status, [MARKETING], None)
    assert [event_to_json(e) for e in first] == [event_to_json(e) for e in again]
    assert len({e.get_id() for e in first}) == 3
    state = fired_state(events_frame(first))
    assert budget_threshold_events(status, [MARKETING], state) == []


def test_only_the_newly_crossed_threshold_fires_the_next_day() -> None:
    day1 = status_on(1, [(1, "marketing-web", "1100")], [MARKETING])
    fired = budget_threshold_events(day1, [MARKETING], None)
    day2 = status_on(2, [(1, "marketing-web", "1100"), (2, "marketing-web", "500")], [MARKETING])
    new = budget_threshold_events(day2, [MARKETING], fired_state(events_frame(fired)))
    assert [(e.get_type(), e.get_data()["threshold_percent"]) for e in new] == [  # type: ignore[index]
        (CROSSED, 80)
    ]


def test_resolved_when_spend_falls_back_under_a_fired_threshold() -> None:
    day1 = status_on(1, [(1, "marketing-web", "1100")], [MARKETING])
    fired = budget_threshold_events(day1, [MARKETING], None)
    # A credit on day 2 brings month-to-date spend back to 900 (45 %).
    day2 = status_on(2, [(1, "marketing-web", "1100"), (2, "marketing-web", "-200")], [MARKETING])
    resolved = budget_threshold_events(day2, [MARKETING], fired_state(events_frame(fired)))
    [event] = resolved
    crossed_id = threshold_event_id("bu-marketing-web", "2026-10", 50, "actual")
    assert event.get_type() == RESOLVED
    assert event.get_id() == resolved_event_id(crossed_id)
    assert event.get_data()["crossed_event_id"] == crossed_id  # type: ignore[index]
    state = fired_state(events_frame(fired + resolved))
    assert state == {crossed_id: "resolved"}
    assert budget_threshold_events(day2, [MARKETING], state) == []


def test_forecast_basis_fires_on_the_forecast_not_the_actual() -> None:
    rows = [(d, "ml-research", "1") for d in range(1, 11)]  # 10 of 100 spent, 31 forecast
    assert budget_threshold_events(status_on(10, rows, [ML]), [ML], None) == []
    rows = [(d, "ml-research", "3") for d in range(1, 11)]  # 30 spent, 93 forecast
    [event] = budget_threshold_events(status_on(10, rows, [ML]), [ML], None)
    assert event.get_id() == threshold_event_id("bu-ml", "2026-10", 80, "forecast")
    assert event.get_data()["forecast_month_end"] == "93.00"  # type: ignore[index]


def test_event_json_is_structured_cloudevent_with_sorted_keys() -> None:
    [event, *_] = budget_threshold_events(
        status_on(1, [(1, "marketing-web", "2500")], [MARKETING]), [MARKETING], None
    )
    payload = event_to_json(event)
    parsed = json.loads(payload)
    assert list(parsed) == sorted(parsed)
    assert list(parsed["data"]) == sorted(parsed["data"])
    assert parsed["specversion"] == "1.0" and parsed["time"] == "2026-10-01T23:59:59Z"
    headers = {"content-type": "application/cloudevents+json"}
    back = from_structured_event(HTTPMessage(headers=headers, body=payload))
    assert back.get_id() == event.get_id() and back.get_data() == event.get_data()


def test_events_frame_rows() -> None:
    events = budget_threshold_events(
        status_on(1, [(1, "marketing-web", "1000")], [MARKETING]), [MARKETING], None
    )
    frame = events_frame(events)
    assert frame.schema == pl.Schema(BUDGET_EVENTS_COLUMNS)
    row = frame.row(0, named=True)
    assert row["x_charge_date"] == date(2026, 10, 1)
    assert (row["type"], row["subject"]) == (CROSSED, "business_unit/marketing-web")
    assert json.loads(row["data_json"])["threshold_percent"] == 50
    assert events_frame([]).schema == pl.Schema(BUDGET_EVENTS_COLUMNS)


def test_status_for_an_unknown_budget_is_an_error() -> None:
    status = status_on(1, [(1, "marketing-web", "1")], [MARKETING])
    with pytest.raises(ValueError, match="'bu-marketing-web', not configured"):
        budget_threshold_events(status, [ML], None)
