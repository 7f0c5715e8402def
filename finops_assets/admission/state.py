"""Per business unit enforcement state, built from the budget CloudEvents the webhook receives.

Rules (only budgets scoped to a business unit, with enforcement soft or hard, count):
- a hard budget on the actual basis with a threshold >= 100% crossed: deny new workloads;
- any other counted budget with a threshold >= 100% crossed (soft, or a hard budget's forecast):
  allow with a warning; a hard budget with a lower threshold crossed: allow with a warning;
- a resolved event removes its threshold; a newer month replaces an older one, and a budget whose
  month is not the current month (when a clock is given) no longer counts.
Applying the same event twice changes nothing (ids are remembered with a digest of their content,
so a forged event reusing an id is refused, not taken for a duplicate); an event is validated in
full before its id is remembered; an older event for a threshold (reordered delivery) is stale.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CROSSED = "com.finops.budget.threshold.crossed"
RESOLVED = "com.finops.budget.threshold.resolved"
ENFORCEMENTS = ("none", "soft", "hard")
BASES = ("actual", "forecast")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class EventError(ValueError):
    """A payload on /events that is not a usable CloudEvent; the message says why."""


@dataclass
class BudgetEnforcement:
    """What one budget's events say for its latest month: the thresholds currently crossed."""

    budget_id: str
    business_unit: str
    enforcement: str
    basis: str
    month: str
    crossed: set[int] = field(default_factory=set)
    updated: dict[str, str] = field(default_factory=dict)  # threshold -> time of its last event


@dataclass(frozen=True)
class Decision:
    """The verdict for a business unit: deny (with reason), or allow with warnings (maybe none)."""

    allowed: bool
    message: str = ""
    warnings: tuple[str, ...] = ()


def validate_cloudevent(event: Any) -> dict[str, Any]:
    """The event if it is a structured CloudEvents 1.0 JSON object; EventError otherwise."""
    if not isinstance(event, dict):
        raise EventError("body is not a JSON object (expected a structured CloudEvent)")
    if event.get("specversion") != "1.0":
        raise EventError(f"specversion {event.get('specversion')!r} is not '1.0'")
    for attribute in ("id", "type", "source"):
        if not isinstance(event.get(attribute), str) or not event[attribute]:
            raise EventError(f"CloudEvent attribute {attribute!r} is missing or empty")
    return event


class EventConflictError(EventError):
    """An event id already applied with different content (a forged or replayed id): HTTP 409."""


@dataclass(frozen=True)
class BudgetEvent:
    """A budget threshold event, fully validated: nothing is recorded before this exists."""

    id: str
    type: str
    budget_id: str
    scope_kind: str
    scope_value: str
    month: str
    threshold: int
    enforcement: str
    basis: str
    time: datetime


def _text(event_id: str, data: Mapping[str, Any], key: str, allowed: tuple[str, ...] = ()) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or (allowed and value not in allowed):
        expected = f"one of {list(allowed)}" if allowed else "a non-empty string"
        raise EventError(f"event {event_id}: data.{key} {value!r} is not {expected}")
    return value


def parse_budget_event(event: Mapping[str, Any]) -> BudgetEvent:
    """Every field enforcement reads, checked; EventError names the first one that is wrong."""
    event_id = event["id"]
    data = event.get("data")
    if not isinstance(data, dict):
        raise EventError(f"event {event_id}: budget data incomplete: no data object")
    scope = data.get("scope")
    if not isinstance(scope, dict):
        raise EventError(f"event {event_id}: budget data incomplete: no scope object")
    month = _text(event_id, data, "month")
    if not MONTH.fullmatch(month):
        raise EventError(f"event {event_id}: data.month {month!r} is not YYYY-MM")
    threshold = data.get("threshold_percent")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 < threshold <= 1000:
        raise EventError(f"event {event_id}: data.threshold_percent {threshold!r} is not 1..1000")
    try:
        time = datetime.fromisoformat(str(event.get("time")))
    except ValueError:
        raise EventError(f"event {event_id}: time {event.get('time')!r} is not ISO 8601") from None
    if time.tzinfo is None:
        raise EventError(f"event {event_id}: time {event.get('time')!r} has no time zone")
    return BudgetEvent(
        event_id,
        event["type"],
        _text(event_id, data, "budget_id"),
        _text(event_id, scope, "kind"),
        _text(event_id, scope, "value"),
        month,
        threshold,
        _text(event_id, data, "enforcement", ENFORCEMENTS),
        _text(event_id, data, "basis", BASES),
        time,
    )


def event_digest(event: Mapping[str, Any]) -> str:
    """SHA-256 of the event's canonical JSON: the same id must always carry the same content."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class EnforcementState:
    """Budget enforcement per business unit, fed by budget CloudEvents (not thread safe)."""

    def __init__(self) -> None:
        self.budgets: dict[str, BudgetEnforcement] = {}
        self.seen: dict[str, str] = {}  # event id -> content digest ("" if from an old state)

    def apply(self, event: Mapping[str, Any]) -> str:
        """Fold one CloudEvent in: applied, duplicate, ignored (not a unit budget) or stale.

        The event is validated in full before its id is remembered, so a rejected event never
        blocks its corrected resend; an id seen before with other content raises
        EventConflictError; an event older than the last one applied to its threshold (a
        reordered delivery) or of an older month is stale.
        """
        event = validate_cloudevent(event)
        digest = event_digest(event)
        if event["id"] in self.seen:
            if self.seen[event["id"]] in ("", digest):
                return "duplicate"
            raise EventConflictError(
                f"event {event['id']}: already applied with different content (refused)"
            )
        if event["type"] not in (CROSSED, RESOLVED):
            self.seen[event["id"]] = digest
            return "ignored"
        parsed = parse_budget_event(event)
        self.seen[event["id"]] = digest
        if parsed.scope_kind != "business_unit":
            return "ignored"
        return self._fold(parsed)

    def _fold(self, event: BudgetEvent) -> str:
        current = self.budgets.get(event.budget_id)
        if current is not None and current.month > event.month:
            return "stale"
        if current is None or current.month < event.month:
            current = BudgetEnforcement(
                event.budget_id, event.scope_value, event.enforcement, event.basis, event.month
            )
            self.budgets[event.budget_id] = current
        last = current.updated.get(str(event.threshold))
        if last is not None and datetime.fromisoformat(last) > event.time:
            return "stale"
        current.updated[str(event.threshold)] = event.time.isoformat()
        if event.type == CROSSED:
            current.crossed.add(event.threshold)
        else:
            current.crossed.discard(event.threshold)
        return "applied"

    def any_denied(self, month: str | None) -> bool:
        """True when some business unit is currently over a hard budget."""
        units = {b.business_unit for b in self.budgets.values()}
        return any(not self.decide(unit, month).allowed for unit in units)

    def decide(self, business_unit: str, month: str | None = None) -> Decision:
        """Deny, warn or allow new workloads of `business_unit` (only `month` counts, if given)."""
        reasons, warnings = [], []
        for budget in sorted(self.budgets.values(), key=lambda b: b.budget_id):
            if budget.business_unit != business_unit or not budget.crossed:
                continue
            if budget.enforcement not in ("soft", "hard") or (month and budget.month != month):
                continue
            top = max(budget.crossed)
            text = f"budget {budget.budget_id} ({budget.month}) is at {top}% ({budget.basis})"
            if budget.enforcement == "hard" and budget.basis == "actual" and top >= 100:
                reasons.append(text)
            elif top >= 100 or budget.enforcement == "hard":
                warnings.append(f"business unit {business_unit}: {text}, {budget.enforcement}")
        if reasons:
            message = (
                f"denied by finops budget enforcement: business unit {business_unit} is over "
                f"a hard budget: {'; '.join(reasons)}. Ask the FinOps team to raise the budget."
            )
            return Decision(False, message, tuple(warnings))
        return Decision(True, "", tuple(warnings))

    def to_json(self) -> str:
        """The state as JSON (for the state file and GET /state)."""
        budgets = [
            {**vars(b), "crossed": sorted(b.crossed)}
            for b in sorted(self.budgets.values(), key=lambda b: b.budget_id)
        ]
        return json.dumps({"budgets": budgets, "seen": dict(sorted(self.seen.items()))}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "EnforcementState":
        """Rebuild a state written by `to_json`."""
        document = json.loads(text)
        state = cls()
        for record in document.get("budgets", []):
            record = {**record, "crossed": set(record["crossed"])}
            state.budgets[record["budget_id"]] = BudgetEnforcement(**record)
        seen = document.get("seen", {})
        state.seen = dict(seen) if isinstance(seen, dict) else dict.fromkeys(seen, "")
        return state
