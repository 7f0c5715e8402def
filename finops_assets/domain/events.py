"""Budget events as CloudEvents 1.0: a threshold crossed, and later resolved.

Identity is deterministic: a crossed event's id hashes (budget id, month, threshold, basis), so
re-running a day never alerts twice (sinks drop ids they already hold) and a budget alerts at most
once per threshold and month. Event time is the end of the charge day, never the wall clock.
"""

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import polars as pl
from cloudevents.core.bindings.http import to_structured_event
from cloudevents.core.v1.event import CloudEvent

from finops_assets.domain.budgets import Budget, highest_threshold_crossed
from finops_assets.domain.focus import TS
from finops_assets.domain.money import quantize_half_up
from finops_assets.domain.reference import minor_units_table

CROSSED = "com.finops.budget.threshold.crossed"
RESOLVED = "com.finops.budget.threshold.resolved"
SOURCE = "/finops_assets/budgets"
# Namespace of the deterministic (uuid5) event ids.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://finops-assets/budget-events")

BUDGET_EVENTS_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "event_id": pl.Utf8(),
    "type": pl.Utf8(),
    "subject": pl.Utf8(),
    "time": TS,
    "data_json": pl.Utf8(),  # the event's data, JSON with sorted keys
}


def threshold_event_id(budget_id: str, month: str, threshold: int, basis: str) -> str:
    """The deterministic id of the crossed event for this budget, month, threshold and basis."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"crossed|{budget_id}|{month}|{threshold}|{basis}"))


def resolved_event_id(crossed_event_id: str) -> str:
    """The deterministic id of the event resolving the crossed event `crossed_event_id`."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"resolved|{crossed_event_id}"))


def end_of_day(day: date) -> datetime:
    """The last second of a UTC charge day: the time of every event about that day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def budget_threshold_events(
    status: pl.DataFrame,
    budgets: Sequence[Budget],
    previous_state: Mapping[str, str] | None = None,
) -> list[CloudEvent]:
    """Crossed and resolved threshold events for a `budget_status` frame.

    For every threshold the budget's basis (actual, or forecast for basis "forecast") has reached,
    a crossed event whose id is not yet in `previous_state`; for every threshold no longer
    reached whose crossed id is in `previous_state` with state "crossed", a resolved event.
    `previous_state` maps crossed event ids to "crossed" or "resolved" (see `fired_state`);
    without it every reached threshold yields its (stable) crossed event again.
    """
    by_id = {budget.id: budget for budget in budgets}
    state = previous_state or {}
    events: list[CloudEvent] = []
    for row in status.iter_rows(named=True):
        budget = by_id.get(row["budget_id"])
        if budget is None:
            raise ValueError(f"budget status names budget {row['budget_id']!r}, not configured")
        spend = row["actual_mtd"] if budget.basis == "actual" else row["forecast_month_end"]
        for threshold in budget.thresholds:
            crossed_id = threshold_event_id(budget.id, row["month"], threshold, budget.basis)
            reached = highest_threshold_crossed(spend, row["budget_amount"], [threshold])
            if reached is not None and crossed_id not in state:
                events.append(_event(CROSSED, crossed_id, row, budget, threshold, {}))
            elif reached is None and state.get(crossed_id) == "crossed":
                extra = {"crossed_event_id": crossed_id}
                event_id = resolved_event_id(crossed_id)
                events.append(_event(RESOLVED, event_id, row, budget, threshold, extra))
    return events


def _event(
    event_type: str,
    event_id: str,
    row: Mapping[str, Any],
    budget: Budget,
    threshold: int,
    extra: Mapping[str, str],
) -> CloudEvent:
    minor_units = minor_units_table().get(budget.currency, 2)

    def amount(value: Decimal) -> str:
        return str(quantize_half_up(value, minor_units))

    data: dict[str, Any] = {
        "budget_id": budget.id,
        "scope": {"kind": budget.scope_kind, "value": budget.scope_value},
        "month": row["month"],
        "threshold_percent": threshold,
        "basis": budget.basis,
        "actual_mtd": amount(row["actual_mtd"]),
        "forecast_month_end": amount(row["forecast_month_end"]),
        "budget_amount": amount(row["budget_amount"]),
        "currency": budget.currency,
        "enforcement": budget.enforcement,
        **extra,
    }
    attributes = {
        "specversion": "1.0",
        "id": event_id,
        "type": event_type,
        "source": SOURCE,
        "subject": f"{budget.scope_kind}/{budget.scope_value}",
        "time": end_of_day(row["x_charge_date"]),
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, data)


def event_to_json(event: CloudEvent) -> bytes:
    """The event in CloudEvents structured JSON, compact, keys sorted: the same bytes every run."""
    body = json.loads(to_structured_event(event).body)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def events_frame(events: Iterable[CloudEvent]) -> pl.DataFrame:
    """The budget_events table rows of these events (one row per event)."""
    rows = []
    for event in events:
        event_time = event.get_time()
        if event_time is None:
            raise ValueError(f"event {event.get_id()} has no time")
        data = json.dumps(event.get_data(), sort_keys=True, separators=(",", ":"))
        rows.append(
            (
                event_time.date(),
                event.get_id(),
                event.get_type(),
                event.get_subject(),
                event_time.astimezone(UTC),
                data,
            )
        )
    return pl.DataFrame(rows, schema=BUDGET_EVENTS_COLUMNS, orient="row")


def fired_state(budget_events: pl.DataFrame) -> dict[str, str]:
    """From stored budget_events rows: crossed event id -> "crossed" or "resolved" (latest wins)."""
    state: dict[str, str] = {}
    for row in budget_events.sort("time", "type").iter_rows(named=True):
        if row["type"] == CROSSED:
            state[row["event_id"]] = "crossed"
        elif row["type"] == RESOLVED:
            state[json.loads(row["data_json"])["crossed_event_id"]] = "resolved"
    return state
