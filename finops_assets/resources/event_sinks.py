"""Where budget events go: the sink interface and a local event log (the outbox: outbox.py).

Delivery is at least once from the outbox and exactly once in effect for idempotent sinks: the
outbox retries a sink until the (event, sink) pair is marked delivered, and such sinks drop event
ids they already hold. An at-most-once sink (Slack) is never resent once a send may have arrived.
"""

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finops_assets.resources.json_lines import TornLine, append_json_line, read_json_lines


def redacted_failure(error: BaseException) -> str:
    """What may be stored of a sink failure: the one redaction boundary of event delivery.

    A sink error carrying safe fields (a `safe_message()`: name, status, body hash) keeps them;
    any other exception keeps its type and a hash of its text, never the text itself, which may
    quote the URL, the routing key or an echoed request.
    """
    safe_message = getattr(error, "safe_message", None)
    if callable(safe_message):
        return f"{type(error).__name__}: {safe_message()}"
    digest = hashlib.sha256(str(error).encode("utf-8", "replace")).hexdigest()[:16]
    return f"{type(error).__name__}: message withheld, sha256 {digest}"


class DeliveryOutcomeUnknown(RuntimeError):
    """The event was sent but no answer came (a read timeout): it may or may not have arrived."""


class EventSink(ABC):
    """Somewhere events are sent: a local file here, Slack or PagerDuty in production.

    `at_most_once`: the receiver cannot drop a repeated event (Slack posts it again), so a send
    whose outcome is unknown is recorded as unknown and not resent.
    """

    name: str
    at_most_once: bool = False

    @abstractmethod
    def deliver(self, event_json: bytes, event_id: str) -> None:
        """Send one event (CloudEvents structured JSON); raise on failure, ignore a known id."""


def _read_json_lines(path: Path) -> list[dict[str, Any]]:
    """The readable records of a JSON-lines file; a torn line is skipped and logged (json_lines)."""
    return read_json_lines(path).records


def _append_json_line(path: Path, record: dict[str, Any]) -> None:
    append_json_line(path, record)


class LocalEventLogSink(EventSink):
    """Appends each event as one JSON line to a local file; an id already in the file is skipped."""

    def __init__(self, path: Path | str, name: str = "local_event_log") -> None:
        self.path = Path(path)
        self.name = name

    def event_ids(self) -> set[str]:
        """Ids of the events already in the log."""
        return {record["id"] for record in _read_json_lines(self.path)}

    def torn_lines(self) -> list[TornLine]:
        """Lines of the log that a killed writer cut short: skipped, named here."""
        return read_json_lines(self.path).torn

    def deliver(self, event_json: bytes, event_id: str) -> None:
        """Append the event unless its id is already logged (idempotent)."""
        event = json.loads(event_json)
        if not isinstance(event, dict) or event.get("id") != event_id:
            raise ValueError(f"event {event_id}: payload is not a JSON event with that id")
        if event_id in self.event_ids():
            return
        _append_json_line(self.path, event)


@dataclass(frozen=True)
class OutboxEntry:
    """An event waiting in the outbox: its id and its serialized payload."""

    event_id: str
    payload: bytes


@dataclass
class DeliveryReport:
    """What one `deliver_pending` call did: (event id, sink) delivered and failed."""

    delivered: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # at-most-once: not resent
    busy: list[str] = field(default_factory=list)  # sinks another worker was delivering to
    torn: list[str] = field(default_factory=list)  # local log lines cut by a killed writer
