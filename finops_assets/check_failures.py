"""Check failures as the day-writer records them: plain lists of JSON-safe dicts."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finops_assets.storage.validation import ValidationOutcome

Failures = ValidationOutcome | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class CheckOutcome:
    """A check's failures (empty: passed) with extra metadata for its result in the UI."""

    failures: Failures
    metadata: Mapping[str, Any] = field(default_factory=dict)


CheckInput = Failures | CheckOutcome


def failure_list(found: CheckInput) -> list[dict]:
    """A check's input (a validation outcome, a list, a CheckOutcome) -> its failures."""
    if isinstance(found, CheckOutcome):
        return failure_list(found.failures)
    if isinstance(found, ValidationOutcome):
        if found.passed:
            return []
        return [dict(f) for f in found.failures] or [{"failure_count": found.failure_count}]
    return [dict(f) for f in found]


def json_safe(failures: list[Any]) -> list[Any]:
    """Failures as JSON values: Decimal amounts, days and other scalars become their text.

    A check may list frame rows (an unmapped service's cost is a Decimal); the metadata must
    never make the step fail on a value JSON cannot carry.
    """
    return json.loads(json.dumps(failures, default=str))
