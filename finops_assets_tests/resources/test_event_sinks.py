"""Event sinks and the outbox: idempotent local log, retries, nothing lost, nothing doubled."""

import json
from pathlib import Path

import pytest

from finops_assets.resources.event_sinks import EventSink, LocalEventLogSink
from finops_assets.resources.outbox import Outbox


def payload(event_id: str) -> bytes:
    return json.dumps({"id": event_id, "specversion": "1.0", "type": "t", "source": "/s"}).encode()


class FlakySink(EventSink):
    """Fails its first `failures` calls, then records what it receives."""

    def __init__(self, name: str, failures: int) -> None:
        self.name = name
        self.failures = failures
        self.calls = 0
        self.received: list[str] = []

    def deliver(self, event_json: bytes, event_id: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"attempt {self.calls} refused")
        self.received.append(event_id)


def test_local_log_creates_folder_and_skips_known_ids(tmp_path: Path) -> None:
    sink = LocalEventLogSink(tmp_path / "events" / "budget_events.jsonl")
    sink.deliver(payload("a"), "a")
    sink.deliver(payload("b"), "b")
    sink.deliver(payload("a"), "a")
    lines = sink.path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]
    assert LocalEventLogSink(sink.path).event_ids() == {"a", "b"}


def test_local_log_rejects_a_payload_with_another_id(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="event x"):
        LocalEventLogSink(tmp_path / "log.jsonl").deliver(payload("a"), "x")


def test_enqueue_is_idempotent(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    assert outbox.enqueue("a", payload("a")) is True
    assert outbox.enqueue("a", payload("a")) is False
    assert [e.event_id for e in outbox.pending()] == ["a"]


def test_sink_failing_twice_then_succeeding_delivers_exactly_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outbox.enqueue("a", payload("a"))
    sink = FlakySink("flaky", failures=2)
    waits: list[float] = []
    report = outbox.deliver_pending([sink], retries=3, backoff_seconds=0.5, sleep=waits.append)
    assert report.delivered == [("a", "flaky")] and report.failed == []
    assert sink.received == ["a"] and waits == [0.5, 1.0]
    assert [f["attempt"] for f in outbox.failures()] == [1, 2]
    assert outbox.pending(["flaky"]) == []
    again = Outbox(tmp_path / "outbox").deliver_pending([sink], sleep=waits.append)
    assert again.delivered == [] and sink.received == ["a"] and sink.calls == 3


def test_failing_sink_keeps_the_event_pending_across_runs(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.enqueue("a", payload("a"))
    log = LocalEventLogSink(tmp_path / "log.jsonl")
    down = FlakySink("pager", failures=100)
    report = outbox.deliver_pending([log, down], retries=1, sleep=lambda _: None)
    assert report.delivered == [("a", "local_event_log")]
    assert [(e, s) for e, s, _ in report.failed] == [("a", "pager")]
    # The redaction boundary keeps the type and a hash, never the text (it may quote a secret).
    assert report.failed[0][2].startswith("ConnectionError: message withheld, sha256 ")
    assert "refused" not in report.failed[0][2]

    reopened = Outbox(tmp_path)  # the next run
    assert [e.event_id for e in reopened.pending()] == ["a"]
    assert reopened.pending(["local_event_log"]) == []
    down.failures = 0
    report = reopened.deliver_pending([log, down], retries=1, sleep=lambda _: None)
    assert report.delivered == [("a", "pager")]
    assert down.received == ["a"]
    assert len(log.path.read_text().splitlines()) == 1
    assert reopened.pending() == []


def test_mark_delivered_is_written_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.enqueue("a", payload("a"))
    outbox.mark_delivered("a", "s")
    outbox.mark_delivered("a", "s")
    assert outbox.states() == {("a", "s"): "delivered"} and outbox.pending(["s"]) == []
