"""The database outbox across real processes: 4 workers at once, a sink outage, kill -9 mid-send.

Everything is real: SQLite files in a temp folder, a PostgreSQL server on 127.0.0.1
(servers/postgres.py; skipped when PostgreSQL is not installed, unless required), HTTPS receivers
on 127.0.0.1 (tls_servers.RecordingServer) and worker processes started with subprocess
(outbox_worker.py). Nothing is mocked.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from finops_assets.resources.outbox import Outbox
from finops_assets.resources.outbox_db import OutboxDatabase, OutboxUnavailableError
from finops_assets_tests.actuate.tls_servers import RecordingServer, write_self_signed_cert
from finops_assets_tests.resources.outbox_worker import build_sinks, payload
from finops_assets_tests.servers.postgres import PostgresServer, running_postgres

pytestmark = pytest.mark.slow

IDS = [f"e{n:02d}" for n in range(40)]


def overlapping(worker: int) -> list[str]:
    """Worker i enqueues 20 of the 40 ids, shared with its neighbours (every id twice)."""
    return [IDS[(worker * 10 + k) % 40] for k in range(20)]


def start(spec: dict[str, Any]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "finops_assets_tests.resources.outbox_worker",
        json.dumps(spec),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        _, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err.decode()[-3000:]


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres("finops") as server:
        yield server


def pg_params(server: PostgresServer) -> dict[str, str]:
    return {
        "host": server.host,
        "port": str(server.port),
        "user": server.user,
        "password": server.password,
        "dbname": server.database,
    }


def test_four_sqlite_processes_deliver_every_event_exactly_once(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    base = {"sqlite_path": str(tmp_path / "outbox.sqlite3"), "sinks": [["file", str(calls)]]}
    finish([start({**base, "events": overlapping(i)}) for i in range(4)])
    received = Counter(line.split()[0] for line in calls.read_text().splitlines())
    assert sorted(received) == IDS and set(received.values()) == {1}
    assert len({line.split()[1] for line in calls.read_text().splitlines()}) >= 1
    outbox = Outbox(tmp_path)
    assert outbox.pending(["file"]) == [] and len(outbox.entries()) == 40


class _Receivers:
    """PagerDuty, CloudEvents and Slack receivers on 127.0.0.1 (HTTPS)."""

    def __init__(self, cert: Path, key: Path, **pagerduty: Any) -> None:
        self.pagerduty = RecordingServer(cert, key, default_status=202, **pagerduty).start()
        self.cloudevents = RecordingServer(cert, key).start()
        self.slack = RecordingServer(cert, key).start()
        self.cert = cert

    def sinks(self) -> list[list[str]]:
        return [
            ["pagerduty", self.pagerduty.url + "/v2/enqueue"],
            ["cloudevents", self.cloudevents.url + "/events"],
            ["slack", self.slack.url + "/services/T/B/secret"],
        ]

    def counts(self) -> dict[str, Counter[str]]:
        return {
            "pagerduty": Counter(
                r.json()["dedup_key"].split("/")[0] for r in self.pagerduty.received
            ),
            "cloudevents": Counter(r.json()["id"] for r in self.cloudevents.received),
            "slack": Counter(r.json()["text"].split()[1].rstrip(":") for r in self.slack.received),
        }

    def stop(self) -> None:
        for server in (self.pagerduty, self.cloudevents, self.slack):
            server.stop()


def test_four_postgres_processes_through_an_outage(postgres: PostgresServer, tls_cert) -> None:
    """PagerDuty answers 503 to its first 12 requests: nothing lost, nothing sent twice."""
    receivers = _Receivers(*tls_cert, statuses=[503] * 12)
    schema = f"outage_{os.getpid()}"
    base = {"postgres": pg_params(postgres), "sinks": receivers.sinks(), "ca": str(tls_cert[0])}
    try:
        workers = [start({**base, "events": overlapping(i), "schema": schema}) for i in range(4)]
        finish(workers)
    finally:
        receivers.stop()
    assert len(receivers.pagerduty.rejected) == 12  # the outage really happened
    for sink, received in receivers.counts().items():
        assert sorted(received) == IDS, sink
        assert set(received.values()) == {1}, (sink, received.most_common(3))


def kill_mid_send(server: RecordingServer, base: dict[str, Any]) -> None:
    """Start a worker, kill -9 it while `server` holds its third request, run 4 more workers."""
    first = start({**base, "events": IDS})
    while len(server.arrived) < 3:  # the third send hangs in the receiver
        assert first.poll() is None, first.communicate()[1].decode()[-3000:]
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    finish([start({**base, "events": overlapping(i)}) for i in range(4)])


@pytest.mark.parametrize("hung", ["pagerduty", "slack"])
def test_kill_9_mid_delivery_loses_nothing(postgres: PostgresServer, tls_cert, hung: str) -> None:
    """A worker killed while a receiver holds its request: the lease runs out, others finish.

    PagerDuty and CloudEvents end with every event (a PagerDuty send in flight may arrive twice,
    with the same dedup_key, which PagerDuty drops). Slack never gets a message twice: a Slack
    send in flight at the kill is recorded as unknown and not resent.
    """
    receivers = _Receivers(*tls_cert)
    getattr(receivers, hung).delays.extend([0, 0, 60])
    schema = f"kill_{hung}_{os.getpid()}"
    base = {"postgres": pg_params(postgres), "sinks": receivers.sinks(), "ca": str(tls_cert[0])}
    base.update(schema=schema, lease_seconds=3.0)
    try:
        kill_mid_send(getattr(receivers, hung), base)
    finally:
        receivers.stop()
    counts = receivers.counts()
    assert sorted(counts["pagerduty"]) == IDS and sorted(counts["cloudevents"]) == IDS
    assert sum(counts["pagerduty"].values()) <= 41  # at most the killed send came twice
    assert set(counts["cloudevents"].values()) == {1}
    assert len(receivers.slack.arrived) == 40  # every Slack message sent, none twice
    assert set(counts["slack"].values()) == {1}
    outbox = Outbox(database=OutboxDatabase(postgres=pg_params(postgres), schema=schema))
    assert outbox.pending(["pagerduty", "cloudevents", "slack"]) == []
    assert outbox.unknown() == ({("e02", "slack")} if hung == "slack" else set())


def test_slack_timeout_after_send_is_unknown_and_not_resent(tmp_path: Path, tls_cert) -> None:
    slack = RecordingServer(*tls_cert, delays=[3]).start()
    try:
        spec = {"sinks": [["slack", slack.url + "/services/T/B/x"]], "ca": str(tls_cert[0])}
        [sink] = build_sinks(spec)
        sink.timeout_seconds = 0.5  # type: ignore[attr-defined]
        outbox = Outbox(tmp_path)
        outbox.enqueue("e1", payload("e1"))
        report = outbox.deliver_pending([sink], retries=3, sleep=lambda _: None)
        again = outbox.deliver_pending([sink], retries=3, sleep=lambda _: None)
    finally:
        slack.stop()
    assert report.unknown == [("e1", "slack")] and again.unknown == again.delivered == []
    assert len(slack.arrived) == 1 and outbox.unknown() == {("e1", "slack")}
    assert outbox.pending(["slack"]) == []
    assert "ReadTimeout" in outbox.failures()[0]["error"]


def test_an_unreachable_outbox_database_names_the_settings(postgres: PostgresServer) -> None:
    params = {**pg_params(postgres), "port": "1", "password": "not-this-one-s3cr3t"}
    outbox = Outbox(database=OutboxDatabase(postgres=params))
    with pytest.raises(OutboxUnavailableError) as error:
        outbox.enqueue("e1", payload("e1"))
    message = str(error.value)
    assert "FINOPS_OUTBOX_DATABASE=postgres" in message and "127.0.0.1:1" in message
    assert "s3cr3t" not in message and len(message.splitlines()) == 1
