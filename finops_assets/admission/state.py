"""Per business unit enforcement state, built from the budget CloudEvents the webhook receives.

Rules (only budgets scoped to a business unit, with enforcement soft or hard, count):
- a hard budget on the actual basis with a threshold >= 100% crossed: deny new workloads;
- any other counted budget with a threshold >= 100% crossed (soft, or a hard budget's forecast):
  allow with a warning; a hard budget with a lower threshold crossed: allow with a warning;
- a resolved event removes its threshold; a newer month replaces an older one, and a budget whose
  month is not the current month (when a clock is given) no longer counts.
Applying the same event twice changes nothing (ids are remembered).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CROSSED = "com.finops.budget.threshold.crossed"
RESOLVED = "com.finops.budget.threshold.resolved"


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


class EnforcementState:
    """Budget enforcement per business unit, fed by budget CloudEvents (not thread safe)."""

    def __init__(self) -> None:
        self.budgets: dict[str, BudgetEnforcement] = {}
        self.seen: set[str] = set()

    def apply(self, event: Mapping[str, Any]) -> str:
        """Fold one CloudEvent in: "applied", "duplicate", "ignored" (not a unit budget) or "stale"."""
        event = validate_cloudevent(event)
        if event["id"] in self.seen:
            return "duplicate"
        if event["type"] not in (CROSSED, RESOLVED):
            return "ignored"
        data = event.get("data")
        if not isinstance(data, dict):
            raise EventError(f"event {event['id']}: budget data incomplete: no data object")
        try:
            scope, month = data["scope"], str(data["month"])
            threshold, budget_id = int(data["threshold_percent"]), str(data["budget_id"])
        except (TypeError, KeyError, ValueError) as error:
            raise EventError(f"event {event['id']}: budget data incomplete: {error!r}") from None
        self.seen.add(event["id"])
        if not isinstance(scope, dict) or scope.get("kind") != "business_unit":
            return "ignored"
        current = self.budgets.get(budget_id)
        if current is not None and current.month > month:
            return "stale"
        if current is None or current.month < month:
            current = BudgetEnforcement(
                budget_id,
                str(scope["value"]),
                str(data.get("enforcement", "none")),
                str(data.get("basis", "actual")),
                month,
            )
            self.budgets[budget_id] = current
        if event["type"] == CROSSED:
            current.crossed.add(threshold)
        else:
            current.crossed.discard(threshold)
        return "applied"

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
        return json.dumps({"budgets": budgets, "seen": sorted(self.seen)}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "EnforcementState":
        """Rebuild a state written by `to_json`."""
        document = json.loads(text)
        state = cls()
        for record in document.get("budgets", []):
            record = {**record, "crossed": set(record["crossed"])}
            state.budgets[record["budget_id"]] = BudgetEnforcement(**record)
        state.seen = set(document.get("seen", []))
        return state
