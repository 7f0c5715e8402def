"""Attacks on the admission webhook, replayed against the real server over HTTPS on 127.0.0.1.

Forged and reused events, a forged Namespace relabel, /state without a token, hostile bodies
(deep, huge, chunked, wrong type), oversized headers, slow senders and a connection flood. Every
count and wait is bounded; nothing leaves the loopback interface.
"""

import json
import socket
import ssl
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from finops_assets.admission.review import NamespaceDirectory
from finops_assets.admission.server import AdmissionWebhook
from finops_assets.admission.transport import ServerLimits
from finops_assets.domain.budgets import Budget
from finops_assets.domain.events import events_frame, fired_state
from finops_assets_tests.actuate.tls_servers import write_self_signed_cert
from finops_assets_tests.admission.webhook_server import (
    EVENTS_TOKEN,
    RunningWebhook,
    events,
    review,
    start_webhook,
    verdict,
)

HARD_WEB = Budget(
    "bu-web", "business_unit", "marketing-web", Decimal("1000"), "USD", (50, 100), "actual", "hard"
)
HARD_PAYMENTS = Budget(
    "bu-pay", "business_unit", "payments", Decimal("1000"), "USD", (100,), "actual", "hard"
)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_self_signed_cert(tmp_path_factory.mktemp("admission-attacks"))


@pytest.fixture
def webhook(cert: tuple[Path, Path]) -> Iterator[RunningWebhook]:
    limits = ServerLimits(read_seconds=1.0, request_seconds=1.5, max_connections=8)
    running, server = start_webhook(cert, limits=limits)
    yield running
    server.shutdown()
    server.server_close()


def _outcomes(webhook: RunningWebhook, payloads: list[dict]) -> list[str]:
    return [webhook.post("/events", p).json().get("outcome", "refused") for p in payloads]


def test_the_webhook_refuses_to_exist_without_an_events_token() -> None:
    with pytest.raises(ValueError, match="refusing to start without an events token"):
        AdmissionWebhook(NamespaceDirectory())
    assert AdmissionWebhook(NamespaceDirectory(), allow_unauthenticated=True).authorized("")


def test_a_forged_hard_budget_without_the_token_is_refused(webhook: RunningWebhook) -> None:
    forged = events(HARD_PAYMENTS, {1: "5000"})
    for token in ("", "wrong", EVENTS_TOKEN + "x"):
        assert all(webhook.post("/events", e, token=token).status_code == 401 for e in forged)
    assert verdict(webhook, review("Deployment", "payments-api"))["allowed"] is True


def test_state_needs_the_token(webhook: RunningWebhook) -> None:
    import requests

    url, ca = webhook.url + "/state", webhook.ca
    assert requests.get(url, verify=ca, timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert requests.get(url, headers=wrong, verify=ca, timeout=5).status_code == 401
    right = {"Authorization": f"Bearer {EVENTS_TOKEN}"}
    assert requests.get(url, headers=right, verify=ca, timeout=5).json() == {
        "budgets": [],
        "seen": {},
    }


def test_a_reused_event_id_with_other_content_is_refused_not_a_duplicate(
    webhook: RunningWebhook,
) -> None:
    real = events(HARD_WEB, {1: "1000"})
    forged = {**real[1], "data": {**real[1]["data"], "month": "2026-09"}}
    assert _outcomes(webhook, [forged]) == ["applied"]
    answer = webhook.post("/events", {**real[1], "data": {**real[1]["data"], "budget_id": "x"}})
    assert answer.status_code == 409 and "different content" in answer.json()["error"]
    assert _outcomes(webhook, [forged]) == ["duplicate"]  # the same bytes again: a replay


def test_an_event_refused_as_invalid_does_not_block_its_corrected_resend(
    webhook: RunningWebhook,
) -> None:
    crossed = events(HARD_WEB, {1: "1000"})
    broken = json.loads(json.dumps(crossed[1]))
    del broken["data"]["scope"]["value"]
    answer = webhook.post("/events", broken)
    assert answer.status_code == 400 and "data.value" in answer.json()["error"]
    bad_month = {**crossed[1], "data": {**crossed[1]["data"], "month": "2026-13"}}
    assert webhook.post("/events", bad_month).status_code == 400
    assert _outcomes(webhook, crossed) == ["applied", "applied"]
    assert verdict(webhook, review("Deployment", "shop"))["allowed"] is False


def test_replayed_and_reordered_events_end_in_the_right_state(webhook: RunningWebhook) -> None:
    crossed = events(HARD_WEB, {1: "1000"})
    frame = events_frame_of(crossed)
    resolved = events(HARD_WEB, {1: "1000", 2: "-200"}, fired_state(frame))
    # Delivered out of order: the day-2 resolve arrives before the day-1 crossings.
    assert _outcomes(webhook, resolved + crossed) == ["applied", "applied", "stale"]
    assert _outcomes(webhook, resolved + crossed) == ["duplicate"] * 3  # replayed
    answer = verdict(webhook, review("Deployment", "shop"))
    assert answer["allowed"] is True and "at 50%" in answer["warnings"][0]


def events_frame_of(payloads: list[dict]):  # noqa: ANN201 (a polars frame)
    from cloudevents.core.bindings.http import HTTPMessage, from_structured_event

    parsed = [from_structured_event(HTTPMessage({}, json.dumps(p).encode())) for p in payloads]
    return events_frame(parsed)


def test_a_forged_namespace_update_relabels_nothing(webhook: RunningWebhook) -> None:
    _outcomes(webhook, events(HARD_WEB, {1: "1000"}))
    forged = review("Namespace", "", operation="UPDATE", uid="ns")
    forged["request"]["object"]["metadata"] = {
        "name": "shop",
        "labels": {"finops.io/business-unit": "search"},
    }
    assert verdict(webhook, forged)["allowed"] is True
    assert verdict(webhook, review("Deployment", "shop"))["allowed"] is False


@pytest.mark.parametrize("path", ["/validate", "/events"])
def test_deep_json_gets_a_400_not_a_500(webhook: RunningWebhook, path: str) -> None:
    for depth in (65, 100_000):  # past our limit, and past Python's recursion limit
        answer = webhook.post(path, b"[" * depth + b"]" * depth)
        assert answer.status_code == 400 and "deeper than 64" in answer.json()["error"]
    assert verdict(webhook, review("Pod", "shop"))["allowed"] is True


def _raw_exchange(webhook: RunningWebhook, request: bytes, read_limit: int = 4096) -> bytes:
    """Send raw bytes over TLS and return what the server answers (or b'' if it just closes)."""
    host, port = "127.0.0.1", int(webhook.url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=webhook.ca)
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        try:
            tls.sendall(request)
            return tls.recv(read_limit)
        except (ConnectionError, ssl.SSLError):
            return b""


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("Content-Type: application/json\r\nContent-Length: 2000000\r\n", 413),
        ("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", 411),
        ("Content-Type: application/json\r\n", 411),
        ("Content-Type: application/json\r\nContent-Length: -5\r\n", 400),
        ("Content-Type: text/plain\r\nContent-Length: 2\r\n", 415),
        ("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n", 415),
        ("Content-Length: 2\r\n", 415),
        ("X-Big: " + "a" * 70_000 + "\r\nContent-Length: 2\r\n", 431),
        ("".join(f"X-{i}: {i}\r\n" for i in range(150)) + "Content-Length: 2\r\n", 431),
    ],
    ids=["huge", "chunked", "no-length", "negative", "text", "form", "no-type", "long", "many"],
)
def test_hostile_framing_gets_a_4xx(webhook: RunningWebhook, headers: str, status: int) -> None:
    request = f"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n{{}}".encode()
    assert _status(_raw_exchange(webhook, request)) == status
    assert verdict(webhook, review("Pod", "shop"))["allowed"] is True


def test_wrong_content_type_on_events_is_refused(webhook: RunningWebhook) -> None:
    import requests

    answer = requests.post(
        webhook.url + "/events",
        data=json.dumps(events(HARD_WEB, {1: "1000"})[0]),
        headers={"Authorization": f"Bearer {EVENTS_TOKEN}", "Content-Type": "text/plain"},
        verify=webhook.ca,
        timeout=5,
    )
    assert answer.status_code == 415


def test_plain_http_is_refused(webhook: RunningWebhook) -> None:
    port = int(webhook.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(100)
        except ConnectionError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200")


def _slow_connection(webhook: RunningWebhook, first_bytes: bytes) -> ssl.SSLSocket:
    port = int(webhook.url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=webhook.ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall(first_bytes)
    return tls


def _cut_within(tls: ssl.SSLSocket, drips: int, pause: float) -> bool:
    """Drip one byte per `pause` seconds, at most `drips` times: True once the server cuts us."""
    tls.settimeout(pause)
    for _ in range(drips):
        try:
            tls.sendall(b"a")
            data = tls.recv(1024)
        except TimeoutError:
            continue
        except (ConnectionError, ssl.SSLError, OSError):
            return True
        return data == b"" or data.startswith(b"HTTP/1.1 4")  # closed, or a 408/400 and closed
    return False


def test_slow_headers_and_slow_bodies_are_cut_while_others_are_served(
    webhook: RunningWebhook,
) -> None:
    slow_headers = [
        _slow_connection(webhook, b"POST /validate HTTP/1.1\r\nX-A: ") for _ in range(3)
    ]
    body_head = (
        b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n{"
    )
    slow_bodies = [_slow_connection(webhook, body_head) for _ in range(3)]
    try:
        assert verdict(webhook, review("Pod", "shop"))["allowed"] is True  # served meanwhile
        # The server allows 1.5 s per request; we would go on dripping for 40 x 0.25 s = 10 s.
        assert all(_cut_within(c, drips=40, pause=0.25) for c in slow_headers + slow_bodies)
    finally:
        for connection in slow_headers + slow_bodies:
            connection.close()
    assert verdict(webhook, review("Pod", "shop"))["allowed"] is True


def test_a_connection_flood_is_capped_and_the_server_recovers(webhook: RunningWebhook) -> None:
    port = int(webhook.url.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
    time.sleep(0.3)  # let the server accept them (not a timed assertion: a settling pause)
    try:
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        extra.settimeout(5)
        try:
            assert extra.recv(10) == b""  # closed at once: over max_connections
        except ConnectionError:
            pass
        finally:
            extra.close()
    finally:
        for connection in idle:
            connection.close()
    deadline = time.monotonic() + 10
    while True:  # the slots free as the idle connections' handshakes end
        try:
            assert verdict(webhook, review("Pod", "shop"))["allowed"] is True
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_200_concurrent_reviews_are_all_answered(cert: tuple[Path, Path]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    running, server = start_webhook(cert)  # the default limits: 256 connections
    try:
        _outcomes(running, events(HARD_WEB, {1: "1000"}))
        bodies = [review("Deployment", "shop", uid=f"u-{i}") for i in range(200)]
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(lambda body: running.post("/validate", body), bodies))
    finally:
        server.shutdown()
        server.server_close()
    assert [a.status_code for a in answers] == [200] * 200
    assert {a.json()["response"]["uid"] for a in answers} == {f"u-{i}" for i in range(200)}
    assert not any(a.json()["response"]["allowed"] for a in answers)
