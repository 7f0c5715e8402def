"""HTTPS sinks against local recording HTTPS servers: Slack, PagerDuty, CloudEvents webhook.

Real TLS (a self-signed certificate trusted through the sink's verify= path), real HTTP.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain.budgets import Budget, budget_status
from finops_assets.domain.events import (
    budget_threshold_events,
    event_to_json,
    events_frame,
    fired_state,
)
from finops_assets.domain.money import MONEY
from finops_assets.resources.http_sinks import (
    CloudEventsWebhookSink,
    PagerDutySink,
    SinkDeliveryError,
    SlackWebhookSink,
)
from finops_assets.resources.outbox import Outbox
from finops_assets.security.hardening import UnsafeUrlError
from finops_assets_tests.actuate.tls_servers import RecordingServer

HARD = Budget(
    "bu-web", "business_unit", "marketing-web", Decimal("1000"), "USD", (50, 100), "actual", "hard"
)
LOCAL = ["127.0.0.1"]


def events_for(costs: dict[int, str], budget: Budget = HARD, state: dict | None = None):
    """Budget events of October 2026 on the last day of `costs` (day -> marketing-web cost)."""
    frame = pl.DataFrame(
        {
            "x_charge_date": [date(2026, 10, d) for d in costs],
            "x_provider": ["aws"] * len(costs),
            "x_business_unit": ["marketing-web"] * len(costs),
            "x_effective_cost_base": [Decimal(v) for v in costs.values()],
        },
        schema_overrides={"x_effective_cost_base": MONEY},
    )
    status = budget_status(frame, [budget], date(2026, 10, max(costs)))
    return budget_threshold_events(status, [budget], state)


def test_urls_must_be_https_and_allowlisted(tls_cert: tuple[Path, Path]) -> None:
    with pytest.raises(UnsafeUrlError, match="is not https"):
        SlackWebhookSink(name="slack", url="http://hooks.slack.com/services/x", allowlist=LOCAL)
    with pytest.raises(UnsafeUrlError, match="not on the allowlist"):
        SlackWebhookSink(name="slack", url="https://evil.example.com/x", allowlist=LOCAL)
    with pytest.raises(UnsafeUrlError, match="loopback"):
        CloudEventsWebhookSink(name="ce", url="https://127.0.0.1:9/events", allowlist=[])
    with pytest.raises(ValueError, match="routing key is empty"):
        PagerDutySink(routing_key="", name="pd", url="https://127.0.0.1:9/", allowlist=LOCAL)


def test_slack_gets_a_block_kit_message(recording_server: RecordingServer, tls_cert) -> None:
    event = events_for({1: "600"})[0]
    sink = SlackWebhookSink(
        name="slack",
        url=recording_server.url + "/services/T/B/x",
        allowlist=LOCAL,
        verify=str(tls_cert[0]),
    )
    sink.deliver(event_to_json(event), event.get_id())
    [got] = recording_server.received
    assert got.path == "/services/T/B/x" and got.headers["content-type"] == "application/json"
    message = got.json()
    assert message["text"] == "Budget bu-web: 50% crossed"
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "context"]
    fields = [f["text"] for f in message["blocks"][1]["fields"]]
    assert "*Actual MTD*\n600.00 USD" in fields and "*Enforcement*\nhard" in fields
    assert event.get_id() in message["blocks"][2]["elements"][0]["text"]


def test_pagerduty_triggers_then_resolves_with_one_dedup_key(
    recording_server: RecordingServer, tls_cert
) -> None:
    sink = PagerDutySink(
        routing_key="R0UT1NG",
        name="pagerduty",
        url=recording_server.url + "/v2/enqueue",
        allowlist=LOCAL,
        verify=str(tls_cert[0]),
    )
    crossed = events_for({1: "1200"})  # 50% and 100%
    for event in crossed:
        sink.deliver(event_to_json(event), event.get_id())
    # A credit brings the month back under 100%: the 100% threshold resolves.
    state = fired_state(events_frame(crossed))
    resolved = events_for({1: "1200", 2: "-500"}, state=state)
    assert [e.get_type().rsplit(".", 1)[-1] for e in resolved] == ["resolved"]
    sink.deliver(event_to_json(resolved[0]), resolved[0].get_id())
    bodies = [r.json() for r in recording_server.received]
    assert [(b["event_action"], b["dedup_key"]) for b in bodies] == [
        ("trigger", "bu-web/2026-10/50"),
        ("trigger", "bu-web/2026-10/100"),
        ("resolve", "bu-web/2026-10/100"),
    ]
    assert {b["routing_key"] for b in bodies} == {"R0UT1NG"}
    assert [b["payload"]["severity"] for b in bodies[:2]] == ["warning", "critical"]
    assert bodies[1]["payload"]["custom_details"]["actual_mtd"] == "1200.00"


def test_cloudevents_webhook_posts_structured_json(
    recording_server: RecordingServer, tls_cert
) -> None:
    event = events_for({1: "600"})[0]
    sink = CloudEventsWebhookSink(
        token="s3cret",
        name="ce",
        url=recording_server.url + "/events",
        allowlist=LOCAL,
        verify=str(tls_cert[0]),
    )
    sink.deliver(event_to_json(event), event.get_id())
    [got] = recording_server.received
    assert got.headers["content-type"].startswith("application/cloudevents+json")
    assert got.headers["authorization"] == "Bearer s3cret"
    assert got.body == event_to_json(event)
    assert got.json()["specversion"] == "1.0" and got.json()["id"] == event.get_id()


def test_untrusted_certificate_and_error_status_raise(
    recording_server: RecordingServer, tls_cert
) -> None:
    event = events_for({1: "600"})[0]
    untrusting = CloudEventsWebhookSink(name="ce", url=recording_server.url, allowlist=LOCAL)
    with pytest.raises(SinkDeliveryError, match="SSLError"):
        untrusting.deliver(event_to_json(event), event.get_id())
    recording_server.statuses = [500]
    trusting = CloudEventsWebhookSink(
        name="ce", url=recording_server.url, allowlist=LOCAL, verify=str(tls_cert[0])
    )
    with pytest.raises(SinkDeliveryError, match="HTTP 500"):
        trusting.deliver(event_to_json(event), event.get_id())
    assert recording_server.received == []


def _outbox_with(tmp_path: Path, costs: dict[int, str]) -> tuple[Outbox, list[str]]:
    outbox = Outbox(tmp_path / "outbox")
    events = events_for(costs)
    for event in events:
        outbox.enqueue(event.get_id(), event_to_json(event))
    return outbox, [e.get_id() for e in events]


def test_two_runs_deliver_each_event_exactly_once(
    recording_server: RecordingServer, tls_cert, tmp_path: Path
) -> None:
    sink = CloudEventsWebhookSink(
        name="ce", url=recording_server.url, allowlist=LOCAL, verify=str(tls_cert[0])
    )
    outbox, ids = _outbox_with(tmp_path, {1: "1200"})
    first = outbox.deliver_pending([sink], sleep=lambda _: None)
    again, _ = _outbox_with(tmp_path, {1: "1200"})  # the next run enqueues the same ids
    second = again.deliver_pending([sink], sleep=lambda _: None)
    assert len(first.delivered) == 2 and second.delivered == [] and second.failed == []
    assert [r.json()["id"] for r in recording_server.received] == ids


def test_server_failing_twice_then_succeeding_gets_it_once(
    recording_server: RecordingServer, tls_cert, tmp_path: Path
) -> None:
    recording_server.statuses = [503, 502]
    sink = SlackWebhookSink(
        name="slack", url=recording_server.url, allowlist=LOCAL, verify=str(tls_cert[0])
    )
    outbox, ids = _outbox_with(tmp_path, {1: "600"})
    waits: list[float] = []
    report = outbox.deliver_pending([sink], retries=3, backoff_seconds=0.01, sleep=waits.append)
    assert report.delivered == [(ids[0], "slack")] and waits == [0.01, 0.02]
    assert len(recording_server.rejected) == 2 and len(recording_server.received) == 1
    errors = [f["error"] for f in outbox.failures()]
    assert [e.split(" rejected")[0] for e in errors] == [
        "SinkDeliveryError: slack: HTTP 503",
        "SinkDeliveryError: slack: HTTP 502",
    ]


def test_server_down_keeps_events_pending_until_the_next_run(tls_cert, tmp_path: Path) -> None:
    server = RecordingServer(*tls_cert).start()
    url = server.url
    server.stop()  # nothing listens on the port now
    sink = CloudEventsWebhookSink(name="ce", url=url, allowlist=LOCAL, verify=str(tls_cert[0]))
    outbox, ids = _outbox_with(tmp_path, {1: "1200"})
    report = outbox.deliver_pending([sink], retries=1, sleep=lambda _: None)
    assert report.delivered == [] and [f[0] for f in report.failed] == ids
    assert "skipped" in report.failed[1][2]  # the second event waits behind the first
    assert [e.event_id for e in Outbox(tmp_path / "outbox").pending(["ce"])] == ids

    restarted = RecordingServer(*tls_cert, port=server.server.server_port).start()
    try:
        report = Outbox(tmp_path / "outbox").deliver_pending([sink], sleep=lambda _: None)
        assert [e for e, _ in report.delivered] == ids
        assert [r.json()["id"] for r in restarted.received] == ids
    finally:
        restarted.stop()
