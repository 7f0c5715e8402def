"""One worker's delivery of the outbox's open events to one sink, under the sink's lease.

The protocol (lease, `sending` mark, resend or `unknown`) is described in outbox.py.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from finops_assets.resources.event_sinks import (
    DeliveryOutcomeUnknown,
    DeliveryReport,
    EventSink,
    redacted_failure,
)
from finops_assets.resources.outbox_db import OutboxConnection

if TYPE_CHECKING:
    from finops_assets.resources.outbox import Outbox

_OPEN = "('pending', 'failed', 'sending')"


class SinkDelivery:
    """One worker's pass over one sink: take the lease, send what is open in order, release."""

    def __init__(
        self, outbox: "Outbox", db: OutboxConnection, sink: EventSink, report: DeliveryReport
    ) -> None:
        self.outbox, self.db, self.sink, self.report = outbox, db, sink, report
        self.broken = False

    def run(self, retries: int, backoff: float, sleep: Callable[[float], None]) -> None:
        """Deliver until nothing new is open; re-check after release so no event is stranded."""
        while self._claim():
            try:
                while not self.broken and (rows := self._open_rows()):
                    for event_id, payload, state in rows:
                        self._one(event_id, payload.encode("utf-8"), state, retries, backoff, sleep)
            finally:
                self._release()
            if self.broken or not self._untried():
                return
        self.report.busy.append(self.sink.name)

    def _claim(self) -> bool:
        db, name = self.db, self.sink.name
        now = db.now()  # leases are compared on the database's clock, not each pod's
        with db.transaction():
            db.execute(
                "INSERT INTO {p}sink_leases (sink) VALUES (?) ON CONFLICT (sink) DO NOTHING",
                (name,),
            )
            return (
                db.execute(
                    "UPDATE {p}sink_leases SET claimed_by = ?, lease_until = ? WHERE sink = ? "
                    "AND (claimed_by IS NULL OR lease_until < ? OR claimed_by = ?)",
                    (
                        self.outbox.worker,
                        now + self.outbox.lease_seconds,
                        name,
                        now,
                        self.outbox.worker,
                    ),
                )
                == 1
            )

    def _renew(self) -> None:
        """Extend the lease; raise if another worker took it over (this one was too slow)."""
        if not self._claim():
            raise RuntimeError(
                f"outbox: the lease on sink {self.sink.name} ran out and another worker holds "
                f"it; raise the lease (outbox_lease_seconds) above the sink's longest delivery"
            )

    def _release(self) -> None:
        self.db.execute(
            "UPDATE {p}sink_leases SET claimed_by = NULL, lease_until = NULL "
            "WHERE sink = ? AND claimed_by = ?",
            (self.sink.name, self.outbox.worker),
        )

    def _open_rows(self) -> list[tuple[str, str, str]]:
        """Every event whose delivery to this sink is open, in enqueue order."""
        db, name = self.db, self.sink.name
        states = _OPEN[:-1] + ", 'unknown')" if self._resends_unknown() else _OPEN
        with db.transaction():
            db.execute(
                "INSERT INTO {p}deliveries (event_id, sink, state) SELECT event_id, ?, 'pending' "
                "FROM {p}events WHERE true ON CONFLICT (event_id, sink) DO NOTHING",
                (name,),
            )
        select = "SELECT e.event_id, e.payload, d.state FROM {p}events e JOIN {p}deliveries d "
        where = f"ON d.event_id = e.event_id WHERE d.sink = ? AND d.state IN {states} "  # noqa: S608
        rows = db.query(select + where + "ORDER BY e.seq", (name,))  # states: constants above
        return [(event_id, payload, state) for event_id, payload, state in rows]

    def _untried(self) -> bool:
        """An event enqueued while another worker held the lease, never tried on this sink."""
        rows = self.db.query(
            "SELECT 1 FROM {p}events e WHERE NOT EXISTS (SELECT 1 FROM {p}deliveries d "
            "WHERE d.event_id = e.event_id AND d.sink = ? AND d.state <> 'pending')",
            (self.sink.name,),
        )
        return bool(rows)

    def _resends_unknown(self) -> bool:
        return self.outbox.resend_unknown or not self.sink.at_most_once

    def _one(
        self,
        event_id: str,
        payload: bytes,
        state: str,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None],
    ) -> None:
        outbox, db, name = self.outbox, self.db, self.sink.name
        if self.broken:
            skipped = f"skipped: {name} failed earlier in this run"
            outbox.record_attempt(db, event_id, name, 0, skipped)
            self.report.failed.append((event_id, name, skipped))
            return
        if state in ("sending", "unknown") and not self._resends_unknown():
            # A worker died after (maybe) sending: an at-most-once sink does not get it again.
            outbox.settle(db, event_id, name, "unknown", "a worker stopped mid-send")
            self.report.unknown.append((event_id, name))
            return
        self._renew()
        db.execute(
            "UPDATE {p}deliveries SET state = 'sending', claimed_by = ?, lease_until = ?, "
            "attempts = attempts + 1, updated_at = ? WHERE event_id = ? AND sink = ?",
            (outbox.worker, db.now() + outbox.lease_seconds, outbox.clock(), event_id, name),
        )
        outcome, error = self._attempts(event_id, payload, retries, backoff, sleep)
        outbox.settle(db, event_id, name, outcome, error)
        if outcome == "delivered":
            self.report.delivered.append((event_id, name))
        elif outcome == "unknown":
            self.report.unknown.append((event_id, name))
        else:
            self.broken = True
            self.report.failed.append((event_id, name, error or ""))

    def _attempts(
        self,
        event_id: str,
        payload: bytes,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None],
    ) -> tuple[str, str | None]:
        error = ""
        for attempt in range(1, retries + 2):
            if attempt > 1:
                sleep(backoff * 2 ** (attempt - 2))
                self._renew()
            try:
                self.sink.deliver(payload, event_id)
            except DeliveryOutcomeUnknown as exc:
                error = redacted_failure(exc)
                self.outbox.record_attempt(self.db, event_id, self.sink.name, attempt, error)
                if not self._resends_unknown():
                    return "unknown", error
            except Exception as exc:  # any sink failure is recorded (redacted) and retried
                error = redacted_failure(exc)
                self.outbox.record_attempt(self.db, event_id, self.sink.name, attempt, error)
            else:
                return "delivered", None
        return "failed", error
