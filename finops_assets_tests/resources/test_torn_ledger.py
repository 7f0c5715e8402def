"""A torn line in a JSON-lines event log (a write cut by kill -9) is skipped and reported.

The outbox itself is a database now (outbox.py; kill -9 there: test_outbox_processes.py); the
local event log sink and its readers stay JSON lines and keep this property.

The files are real files in a temp folder; the tear is made the way a killed writer leaves it:
the last line's bytes cut short, with no newline after them.
"""

import json
from pathlib import Path

import pytest

from finops_assets.resources.event_sinks import EventSink, LocalEventLogSink
from finops_assets.resources.json_lines import append_json_line, read_json_lines


def payload(event_id: str) -> bytes:
    return json.dumps({"id": event_id, "specversion": "1.0", "type": "t", "source": "/s"}).encode()


class RecordingSink(EventSink):
    """Records the ids it receives."""

    def __init__(self, name: str = "rec") -> None:
        self.name = name
        self.received: list[str] = []

    def deliver(self, event_json: bytes, event_id: str) -> None:
        self.received.append(event_id)


def tear_last_line(path: Path, keep: int = 17) -> None:
    """Cut the file's last line after `keep` bytes, as a write killed halfway leaves it."""
    data = path.read_bytes()
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: start + keep])


def test_torn_local_event_log_line_is_skipped(tmp_path: Path) -> None:
    log = LocalEventLogSink(tmp_path / "budget_events.jsonl")
    log.deliver(payload("a"), "a")
    log.deliver(payload("b"), "b")
    tear_last_line(log.path, keep=5)

    assert log.event_ids() == {"a"}
    log.deliver(payload("b"), "b")
    assert log.event_ids() == {"a", "b"}


def test_a_line_that_is_json_but_not_an_object_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    result = read_json_lines(path)
    assert result.records == [{"a": 1}]
    assert [(t.line, t.reason) for t in result.torn] == [(2, "not a JSON object")]


def test_append_after_a_torn_line_starts_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": ')
    append_json_line(path, {"c": 3})
    assert path.read_bytes() == b'{"a": 1}\n{"b": \n{"c":3}\n'
    assert read_json_lines(path).records == [{"a": 1}, {"c": 3}]


@pytest.mark.slow
def test_budget_events_runs_on_after_a_torn_event_log_line(tmp_path: Path) -> None:
    """The asset on a real instance and lake: it succeeds and names the torn line in metadata."""
    import datetime as dt

    import dagster as dg

    from finops_assets.resources.events import EventSinksResource
    from finops_assets.resources.lake import LakeResource
    from finops_assets_tests.actuate.test_budget_events_delivery import (
        DAY1,
        run,
        write_allocated,
    )

    events_dir = tmp_path / "events"
    sinks = EventSinksResource(events_dir=str(events_dir), backoff_seconds=0.01)
    lake = LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD")
    write_allocated(lake, DAY1, "600")
    write_allocated(lake, DAY1 + dt.timedelta(days=1), "500")
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        assert run(instance, tmp_path, sinks, DAY1, DAY1).success
        deliveries = events_dir / "budget_events.jsonl"
        tear_last_line(deliveries)  # day 1's event, already marked delivered in the outbox
        result = run(instance, tmp_path, sinks, DAY1, DAY1 + dt.timedelta(days=1))
        assert result.success
        [materialization] = [
            m
            for m in result.asset_materializations_for_node("budget_events")
            if m.metadata.get("torn_ledger_lines") is not None
        ][:1]
    torn = materialization.metadata["torn_ledger_lines"].value
    assert isinstance(torn, list) and torn[0].startswith(f"{deliveries}:1:")
    log = LocalEventLogSink(events_dir / "budget_events.jsonl")
    assert len(log.event_ids()) == 1  # day 2's event appended on a fresh line after the torn one
