"""Where budget events go: the sink interface, a local event log, and a durable outbox.

Delivery is at least once from the outbox and exactly once in effect: the outbox retries a sink
until it has a delivery record for (event, sink), and sinks drop event ids they already hold.
"""

import fcntl
import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


class EventSink(ABC):
    """Somewhere events are sent: a local file here, Slack or PagerDuty in production."""

    name: str

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
    torn: list[str] = field(default_factory=list)  # outbox lines cut by a killed writer, skipped


class Outbox:
    """A file-backed outbox: events are enqueued once and stay pending per sink until delivered.

    Under `folder`, `outbox.jsonl` holds the enqueued events and `deliveries.jsonl` every attempt's
    outcome (delivered or failed with its error). Nothing is deleted, so a failed event is retried
    by the next run and never lost, and a delivered (event, sink) pair is never sent again.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._events_path = self.folder / "outbox.jsonl"
        self._deliveries_path = self.folder / "deliveries.jsonl"

    def enqueue(self, event_id: str, payload: bytes) -> bool:
        """Add an event; False (and nothing written) when the id is already enqueued."""
        with self._lock():
            records = _read_json_lines(self._events_path)
            if any(record["event_id"] == event_id for record in records):
                return False
            _append_json_line(
                self._events_path, {"event_id": event_id, "payload": payload.decode("utf-8")}
            )
            return True

    def entries(self) -> list[OutboxEntry]:
        """Every enqueued event, in enqueue order."""
        return [
            OutboxEntry(record["event_id"], record["payload"].encode("utf-8"))
            for record in _read_json_lines(self._events_path)
        ]

    def delivered(self) -> set[tuple[str, str]]:
        """The (event id, sink name) pairs already delivered."""
        return {
            (record["event_id"], record["sink"])
            for record in _read_json_lines(self._deliveries_path)
            if record["outcome"] == "delivered"
        }

    def failures(self) -> list[dict[str, Any]]:
        """Every failed attempt recorded: event id, sink, attempt number and error."""
        return [r for r in _read_json_lines(self._deliveries_path) if r["outcome"] == "failed"]

    def pending(self, sink_names: Sequence[str] | None = None) -> list[OutboxEntry]:
        """Events not yet delivered to every one of `sink_names` (default: every sink seen so far).

        With no sink named and none seen yet, every enqueued event is pending.
        """
        done = self.delivered()
        if sink_names is None:
            known = {record["sink"] for record in _read_json_lines(self._deliveries_path)}
            sink_names = sorted(known)
        entries = self.entries()
        if not sink_names:
            return entries
        return [e for e in entries if any((e.event_id, s) not in done for s in sink_names)]

    def torn_lines(self) -> list[TornLine]:
        """Lines of the outbox files that a killed writer cut short: skipped, named here."""
        return [
            *read_json_lines(self._events_path).torn,
            *read_json_lines(self._deliveries_path).torn,
        ]

    def mark_delivered(self, event_id: str, sink_name: str) -> None:
        """Record that `sink_name` has the event (a repeated mark is not written twice)."""
        if (event_id, sink_name) not in self.delivered():
            self._record(event_id, sink_name, "delivered", attempt=0, error=None)

    def deliver_pending(
        self,
        sinks: Sequence[EventSink],
        retries: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> DeliveryReport:
        """Send every pending event to every sink that lacks it, each with up to `retries` retries.

        The wait before retry n (1-based) is backoff_seconds * 2**(n-1). A sink that still fails
        is recorded as failed and the event stays pending for that sink; other sinks go on. A sink
        that failed is not tried again in this call: its later events are recorded as failed
        ("skipped") and wait for the next run, so a receiver sees events in enqueue order (a
        PagerDuty resolve never overtakes its trigger) and a dead receiver costs one backoff.
        A lock file serializes concurrent calls on the same outbox folder.
        """
        report = DeliveryReport()
        names = [sink.name for sink in sinks]
        with self._lock():
            done = self.delivered()
            broken: dict[str, str] = {}
            for entry in self.pending(names):
                for sink in sinks:
                    if (entry.event_id, sink.name) in done:
                        continue
                    error: str | None
                    if sink.name in broken:
                        error = f"skipped: {sink.name} failed earlier in this run"
                        self._record(entry.event_id, sink.name, "failed", attempt=0, error=error)
                    else:
                        error = self._attempt(sink, entry, retries, backoff_seconds, sleep)
                    if error is None:
                        self.mark_delivered(entry.event_id, sink.name)
                        report.delivered.append((entry.event_id, sink.name))
                    else:
                        broken.setdefault(sink.name, error)
                        report.failed.append((entry.event_id, sink.name, error))
            report.torn = [torn.describe() for torn in self.torn_lines()]
        return report

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _attempt(
        self,
        sink: EventSink,
        entry: OutboxEntry,
        retries: int,
        backoff_seconds: float,
        sleep: Callable[[float], None],
    ) -> str | None:
        error = ""
        for attempt in range(1, retries + 2):
            if attempt > 1:
                sleep(backoff_seconds * 2 ** (attempt - 2))
            try:
                sink.deliver(entry.payload, entry.event_id)
            except Exception as exc:  # any sink failure is recorded (redacted) and retried
                error = redacted_failure(exc)
                self._record(entry.event_id, sink.name, "failed", attempt=attempt, error=error)
            else:
                return None
        return error

    def _record(
        self, event_id: str, sink_name: str, outcome: str, attempt: int, error: str | None
    ) -> None:
        record = {
            "event_id": event_id,
            "sink": sink_name,
            "outcome": outcome,
            "attempt": attempt,
            "error": error,
        }
        _append_json_line(self._deliveries_path, record)
