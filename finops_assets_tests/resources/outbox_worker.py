"""One outbox worker process for the concurrency tests: enqueue some events, deliver until done.

Run as `python -m finops_assets_tests.resources.outbox_worker '<json spec>'`. The spec names the
database (sqlite_path, or postgres parameters), the event ids to enqueue, the sinks (`file`: a
raw sink that appends every call it gets, with no de-duplication, so a double delivery shows;
`pagerduty`, `cloudevents`, `slack`: the real HTTPS sinks) and the lease.
"""

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from finops_assets.resources.event_sinks import EventSink
from finops_assets.resources.http_sinks import (
    CloudEventsWebhookSink,
    PagerDutySink,
    SlackWebhookSink,
)
from finops_assets.resources.outbox import Outbox
from finops_assets.resources.outbox_db import OUTBOX_SCHEMA, OutboxDatabase


class RawAppendSink(EventSink):
    """Appends `event_id` as a line on every call (O_APPEND, one write): counts real calls."""

    def __init__(self, path: str, name: str = "file") -> None:
        self.path, self.name = Path(path), name

    def deliver(self, event_json: bytes, event_id: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{event_id} {os.getpid()}\n".encode())
        finally:
            os.close(fd)


def payload(event_id: str) -> bytes:
    """A budget-crossed CloudEvent whose PagerDuty dedup_key is unique to `event_id`."""
    event = {
        "id": event_id,
        "specversion": "1.0",
        "type": "com.finops.budget.threshold.crossed",
        "source": "/finops/test",
        "subject": "team-a",
        "data": {"budget_id": event_id, "month": "2026-11", "threshold_percent": 100},
    }
    return json.dumps(event).encode()


def build_sinks(spec: dict[str, Any]) -> list[EventSink]:
    """The sinks the spec names, in its order."""
    sinks: list[EventSink] = []
    http = {"allowlist": ["127.0.0.1"], "verify": spec.get("ca", True), "timeout_seconds": 5.0}
    for kind, target in spec["sinks"]:
        if kind == "file":
            sinks.append(RawAppendSink(target))
        elif kind == "pagerduty":
            sinks.append(PagerDutySink("routing-key", name="pagerduty", url=target, **http))
        elif kind == "cloudevents":
            sinks.append(CloudEventsWebhookSink("", name="cloudevents", url=target, **http))
        elif kind == "slack":
            sinks.append(SlackWebhookSink("slack", target, **http))
    return sinks


def main(spec: dict[str, Any]) -> int:
    """Enqueue, then deliver until every event is settled for every sink (or rounds run out)."""
    database = OutboxDatabase(
        sqlite_path=Path(spec["sqlite_path"]) if spec.get("sqlite_path") else None,
        postgres=spec.get("postgres", {}),
        schema=spec.get("schema", OUTBOX_SCHEMA),
    )
    outbox = Outbox(database=database, lease_seconds=spec.get("lease_seconds", 30.0))
    sinks = build_sinks(spec)
    for event_id in spec["events"]:
        outbox.enqueue(event_id, payload(event_id))
    names = [sink.name for sink in sinks]
    for _ in range(spec.get("rounds", 200)):
        report = outbox.deliver_pending(sinks, retries=1, backoff_seconds=0.01)
        if not report.busy and not report.failed and not outbox.pending(names):
            return 0
        time.sleep(0.1)
    return 3  # still pending: the test names it


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
