"""The transactional outbox: events enqueued once, handed off per sink under a lease, marked.

Hand-off per sink: a worker (a run's step, in any process or pod) takes the sink's lease
(`sink_leases.claimed_by`, `lease_until`, on the database's clock) with one conditional UPDATE,
so one worker at a time sends to a sink, in enqueue order (a PagerDuty resolve never overtakes
its trigger). Before each send the delivery row is marked `sending` by that worker and the lease
renewed; after it, the row is marked `delivered`, `failed` (retried by a later run) or `unknown`.
A worker killed mid-send leaves its row `sending` and its lease runs out; the next worker then
resends it to an idempotent sink (PagerDuty dedup_key, CloudEvents id, the local log's id) and
records it as `unknown` for an at-most-once sink (Slack), which is not resent unless
`resend_unknown`.
"""

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from finops_assets.resources.event_sinks import DeliveryReport, EventSink, OutboxEntry
from finops_assets.resources.outbox_db import OutboxConnection, OutboxDatabase
from finops_assets.resources.outbox_delivery import SinkDelivery

DEFAULT_LEASE_SECONDS = 120.0


def worker_id() -> str:
    """host:pid:random, unique per Outbox object (a lease names who holds it)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Outbox:
    """Durable events and their per-sink delivery state in a database (SQLite or PostgreSQL).

    `Outbox(folder)` keeps an SQLite database `outbox.sqlite3` in `folder`; `Outbox(database=)`
    takes an OutboxDatabase (the deployment's PostgreSQL). Nothing is deleted: a failed event is
    retried by the next run and never lost, and a delivered (event, sink) pair is not sent again.
    """

    def __init__(
        self,
        folder: Path | str | None = None,
        database: OutboxDatabase | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        resend_unknown: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if database is None:
            if folder is None:
                raise ValueError("Outbox needs a folder (SQLite) or a database")
            database = OutboxDatabase(sqlite_path=Path(folder) / "outbox.sqlite3")
        self.database, self.lease_seconds = database, lease_seconds
        self.resend_unknown, self.clock, self.worker = resend_unknown, clock, worker_id()

    def check(self) -> "Outbox":
        """Reach the database (creating the tables) now: an asset calls it before any day."""
        with self.database.connect():
            return self

    def enqueue(self, event_id: str, payload: bytes) -> bool:
        """Add an event; False (and nothing written) when the id is already enqueued."""
        with self.database.connect() as db:
            return (
                db.execute(
                    "INSERT INTO {p}events (event_id, payload, enqueued_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (event_id) DO NOTHING",
                    (event_id, payload.decode("utf-8"), self.clock()),
                )
                == 1
            )

    def entries(self) -> list[OutboxEntry]:
        """Every enqueued event, in enqueue order."""
        with self.database.connect() as db:
            rows = db.query("SELECT event_id, payload FROM {p}events ORDER BY seq")
        return [OutboxEntry(event_id, payload.encode("utf-8")) for event_id, payload in rows]

    def states(self) -> dict[tuple[str, str], str]:
        """(event id, sink) -> pending, sending, delivered, failed or unknown."""
        with self.database.connect() as db:
            rows = db.query("SELECT event_id, sink, state FROM {p}deliveries")
        return {(event_id, sink): state for event_id, sink, state in rows}

    def delivered(self) -> set[tuple[str, str]]:
        """The (event id, sink name) pairs already delivered."""
        return {pair for pair, state in self.states().items() if state == "delivered"}

    def unknown(self) -> set[tuple[str, str]]:
        """Pairs whose send may or may not have arrived (an at-most-once sink: not resent)."""
        return {pair for pair, state in self.states().items() if state == "unknown"}

    def failures(self) -> list[dict[str, Any]]:
        """Every failed attempt recorded: event id, sink, attempt number and (redacted) error."""
        with self.database.connect() as db:
            rows = db.query(
                "SELECT event_id, sink, attempt, error FROM {p}attempts "
                "WHERE outcome = 'failed' ORDER BY id"
            )
        keys = ("event_id", "sink", "attempt", "error")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def pending(self, sink_names: Sequence[str] | None = None) -> list[OutboxEntry]:
        """Events not yet settled (delivered or unknown) for every one of `sink_names`.

        By default the sinks seen so far; with none named and none seen, every event is pending.
        """
        states = self.states()
        if sink_names is None:
            sink_names = sorted({sink for _, sink in states})
        entries = self.entries()
        if not sink_names:
            return entries
        settled = ("delivered", "unknown")
        return [
            e
            for e in entries
            if any(states.get((e.event_id, s)) not in settled for s in sink_names)
        ]

    def mark_delivered(self, event_id: str, sink_name: str) -> None:
        """Record that `sink_name` has the event (idempotent)."""
        with self.database.connect() as db:
            self.settle(db, event_id, sink_name, "delivered", None)

    def deliver_pending(
        self,
        sinks: Sequence[EventSink],
        retries: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> DeliveryReport:
        """Send every open event to every sink that lacks it, each with up to `retries` retries.

        The wait before retry n (1-based) is backoff_seconds * 2**(n-1). A sink that still fails
        is recorded as failed and its later events wait for the next run ("skipped"), so a
        receiver sees events in enqueue order and a dead receiver costs one backoff. A sink whose
        lease another worker holds is left to that worker (`report.busy`).
        """
        report = DeliveryReport()
        with self.database.connect() as db:
            for sink in sinks:
                SinkDelivery(self, db, sink, report).run(retries, backoff_seconds, sleep)
        for sink in sinks:
            torn_lines = getattr(sink, "torn_lines", None)
            if callable(torn_lines):
                report.torn.extend(torn.describe() for torn in torn_lines())
        return report

    def settle(
        self, db: OutboxConnection, event_id: str, sink: str, state: str, error: str | None
    ) -> None:
        """Set the delivery of `event_id` to `sink` to `state` (a delivered one stays so)."""
        with db.transaction():
            db.execute(
                "INSERT INTO {p}deliveries (event_id, sink, state) VALUES (?, ?, 'pending') "
                "ON CONFLICT (event_id, sink) DO NOTHING",
                (event_id, sink),
            )
            db.execute(
                "UPDATE {p}deliveries SET state = ?, error = ?, claimed_by = NULL, "
                "lease_until = NULL, updated_at = ? WHERE event_id = ? AND sink = ? "
                "AND state <> 'delivered'",
                (state, error, self.clock(), event_id, sink),
            )

    def record_attempt(
        self, db: OutboxConnection, event_id: str, sink: str, attempt: int, error: str
    ) -> None:
        """Note one failed attempt (its redacted error) in the attempts table."""
        db.execute(
            "INSERT INTO {p}attempts (event_id, sink, attempt, outcome, error, worker, at) "
            "VALUES (?, ?, ?, 'failed', ?, ?, ?)",
            (event_id, sink, attempt, error, self.worker, self.clock()),
        )
