"""Attack: a receiver (or a proxy in front of it) echoes the request in its error answer.

The Slack webhook path and the PagerDuty routing key then come back in the HTTP reason phrase and
body. The outbox is the one redaction boundary: what it stores (the outbox database, the report the
assets put in Dagster metadata) holds the status, the sink and a hash of the body, never the body.
Receivers are real HTTPS servers on 127.0.0.1.
"""

import hashlib
from pathlib import Path

import pytest

from finops_assets.resources.event_sinks import redacted_failure
from finops_assets.resources.http_sinks import PagerDutySink, SinkDeliveryError, SlackWebhookSink
from finops_assets.resources.outbox import Outbox
from finops_assets_tests.actuate.tls_servers import RecordingServer, write_self_signed_cert

SLACK_PATH = "/services/T0ECH0/B0ECH0/echoS3cr3tW3bh00kP4th"
ROUTING_KEY = "R0UT1NGK3YECH0S3CR3T0042"
EVENT = b'{"id": "e1", "type": "com.finops.test", "source": "t", "data": {}}'


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_self_signed_cert(tmp_path_factory.mktemp("tls"))


def _every_byte(folder: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


def test_an_echoing_receiver_leaks_nothing_into_the_outbox(tmp_path: Path, tls_cert) -> None:
    cert, key = tls_cert
    slack = RecordingServer(cert, key, default_status=500, echo=True).start()
    pagerduty = RecordingServer(cert, key, default_status=400, echo=True).start()
    try:
        sinks = [
            SlackWebhookSink("slack", slack.url + SLACK_PATH, ["127.0.0.1"], str(cert), 5.0),
            PagerDutySink(
                ROUTING_KEY,
                name="pagerduty",
                url=pagerduty.url + "/v2/enqueue",
                allowlist=["127.0.0.1"],
                verify=str(cert),
            ),
        ]
        outbox = Outbox(tmp_path / "outbox")
        outbox.enqueue("e1", EVENT)
        report = outbox.deliver_pending(sinks, retries=1, sleep=lambda _: None)
    finally:
        slack.stop()
        pagerduty.stop()
    # The receivers really echoed the secrets back (else this test could not fail).
    assert slack.rejected[0].path == SLACK_PATH
    assert ROUTING_KEY.encode() in pagerduty.rejected[0].body
    stored = _every_byte(tmp_path) + repr(report)
    assert SLACK_PATH not in stored and "echoS3cr3t" not in stored
    assert ROUTING_KEY not in stored and "request was" not in stored
    failures = outbox.failures()
    assert len(failures) == 4 and {f["sink"] for f in failures} == {"slack", "pagerduty"}
    assert "HTTP 500" in failures[0]["error"] and "sha256" in failures[0]["error"]
    assert "HTTP 400" in failures[-1]["error"]
    assert outbox.pending(["slack", "pagerduty"])  # nothing lost: still pending for both


def test_the_stored_failure_has_status_sink_and_body_hash_only() -> None:
    body = f"upstream said: POST {SLACK_PATH}".encode()
    error = SinkDeliveryError("slack", 502, "rejected", body)
    text = redacted_failure(error)
    assert SLACK_PATH not in text and str(error) == error.safe_message()
    assert text == (
        f"SinkDeliveryError: slack: HTTP 502 rejected; body of {len(body)} bytes, "
        f"sha256 {hashlib.sha256(body).hexdigest()[:16]}"
    )


def test_any_other_exception_keeps_only_its_type_and_a_hash() -> None:
    text = redacted_failure(ValueError(f"could not post to https://hooks.slack.com{SLACK_PATH}"))
    assert text.startswith("ValueError: message withheld, sha256 ") and SLACK_PATH not in text


@pytest.mark.parametrize("status", [301, 404, 500])
def test_error_statuses_raise_without_quoting_the_answer(tmp_path, tls_cert, status) -> None:
    cert, key = tls_cert
    server = RecordingServer(cert, key, default_status=status, echo=True).start()
    try:
        sink = SlackWebhookSink("slack", server.url + SLACK_PATH, ["127.0.0.1"], str(cert), 5.0)
        with pytest.raises(SinkDeliveryError) as raised:
            sink.deliver(EVENT, "e1")
    finally:
        server.stop()
    assert raised.value.status == status and SLACK_PATH not in str(raised.value)
