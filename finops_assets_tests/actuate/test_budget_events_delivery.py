"""budget_events on a real Dagster instance and Delta lake, delivering to real HTTPS receivers.

Slack and PagerDuty are local recording HTTPS servers (their cloud endpoints cannot be reached
here); the admission webhook is the real one from finops_assets.admission.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from finops_assets.actuate.assets import budget_events, budget_status
from finops_assets.domain.allocate import ALLOCATED_COLUMNS
from finops_assets.resources.budgets import BudgetsResource
from finops_assets.resources.cost_forecast import CostForecastResource
from finops_assets.resources.events import EventSinksResource
from finops_assets.resources.lake import LakeResource
from finops_assets.resources.outbox import Outbox
from finops_assets.storage import tables
from finops_assets_tests.actuate.tls_servers import RecordingServer
from finops_assets_tests.admission.webhook_server import (
    EVENTS_TOKEN,
    RunningWebhook,
    review,
    start_webhook,
    verdict,
)

BUDGETS = """
budgets:
  - id: bu-web
    scope: {kind: business_unit, value: marketing-web}
    amount: "1000"
    currency: USD
    thresholds: [50, 100]
    basis: actual
    enforcement: hard
"""
DAY1 = dt.date(2026, 10, 1)


def write_allocated(lake: LakeResource, day: dt.date, cost: str) -> None:
    """One allocated marketing-web cost row on `day` (other columns null)."""
    values = {
        "x_charge_date": day,
        "x_provider": "aws",
        "x_business_unit": "marketing-web",
        "x_base_currency": "USD",
        "x_effective_cost_base": Decimal(cost),
        "x_allocation_method": "tag",
    }
    row = {name: values.get(name) for name in ALLOCATED_COLUMNS}
    frame = pl.DataFrame([row], schema=ALLOCATED_COLUMNS)
    lake.delta().write_day(tables.ALLOCATED_COSTS, frame, day)


@pytest.fixture
def receivers(tls_cert) -> Iterator[tuple[RecordingServer, RecordingServer, RunningWebhook]]:
    """Slack and PagerDuty recorders, and the admission webhook, all over HTTPS."""
    slack, pagerduty = RecordingServer(*tls_cert).start(), RecordingServer(*tls_cert).start()
    webhook, server = start_webhook(tls_cert)
    yield slack, pagerduty, webhook
    for recorder in (slack, pagerduty):
        recorder.stop()
    server.shutdown()
    server.server_close()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A real (SQLite, temp folder) Dagster instance."""
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def run(
    instance: dg.DagsterInstance,
    tmp_path: Path,
    sinks: EventSinksResource,
    first: dt.date,
    last: dt.date,
) -> dg.ExecuteInProcessResult:
    """Materialize budget_status and budget_events for first..last in one ranged run."""
    budgets_file = tmp_path / "budgets.yaml"
    budgets_file.write_text(BUDGETS)
    return dg.materialize(
        [budget_status, budget_events],
        instance=instance,
        resources={
            "lake": LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD"),
            "budgets": BudgetsResource(path=str(budgets_file)),
            "cost_forecast": CostForecastResource(),
            "sinks": sinks,
        },
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=False,
    )


def configured_sinks(tmp_path, tls_cert, slack, pagerduty, webhook) -> EventSinksResource:
    return EventSinksResource(
        events_dir=str(tmp_path / "events"),
        backoff_seconds=0.01,
        url_allowlist=["127.0.0.1"],
        ca_bundle=str(tls_cert[0]),
        slack_webhook_url=dg.EnvVar("TEST_FINOPS_SLACK_URL"),
        pagerduty_routing_key=dg.EnvVar("TEST_FINOPS_PAGERDUTY_KEY"),
        pagerduty_url=pagerduty.url + "/v2/enqueue",
        cloudevents_webhook_url=webhook.url + "/events",
        cloudevents_webhook_token=dg.EnvVar("TEST_FINOPS_ADMISSION_TOKEN"),
    )


@pytest.mark.slow
def test_events_reach_every_sink_once_and_drive_admission(
    tmp_path, tls_cert, receivers, monkeypatch, instance
) -> None:
    slack, pagerduty, webhook = receivers
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.setenv("TEST_FINOPS_SLACK_URL", slack.url + "/services/T/B/x")
    monkeypatch.setenv("TEST_FINOPS_PAGERDUTY_KEY", "R0UT1NG")
    monkeypatch.setenv("TEST_FINOPS_ADMISSION_TOKEN", EVENTS_TOKEN)
    sinks = configured_sinks(tmp_path, tls_cert, slack, pagerduty, webhook)
    lake = LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD")
    for offset, cost in enumerate(("600", "500", "-300")):
        write_allocated(lake, DAY1 + dt.timedelta(days=offset), cost)

    assert run(instance, tmp_path, sinks, DAY1, DAY1).success
    assert verdict(webhook, review("Deployment", "shop"))["allowed"] is True  # 60%: warned
    assert run(
        instance, tmp_path, sinks, DAY1, DAY1 + dt.timedelta(days=1)
    ).success  # re-run + day 2
    denied = verdict(webhook, review("Deployment", "shop"))
    assert denied["allowed"] is False and "over a hard budget" in denied["status"]["message"]
    assert len(slack.received) == 2  # 50% then 100%: the re-run of day 1 sent nothing again

    assert run(
        instance, tmp_path, sinks, DAY1 + dt.timedelta(days=2), DAY1 + dt.timedelta(days=2)
    ).success
    assert verdict(webhook, review("Deployment", "shop"))["allowed"] is True  # back to 80%
    actions = [(b.json()["event_action"], b.json()["dedup_key"]) for b in pagerduty.received]
    assert actions == [
        ("trigger", "bu-web/2026-10/50"),
        ("trigger", "bu-web/2026-10/100"),
        ("resolve", "bu-web/2026-10/100"),
    ]
    assert (
        Outbox(tmp_path / "events" / "outbox").pending(
            ["local_event_log", "slack", "pagerduty", "cloudevents_webhook"]
        )
        == []
    )


@pytest.mark.slow
def test_an_unsafe_sink_url_fails_the_run_and_loses_no_event(
    tmp_path, tls_cert, receivers, monkeypatch, instance
) -> None:
    slack, pagerduty, webhook = receivers
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    lake = LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD")
    write_allocated(lake, DAY1, "1000")
    plain_http = EventSinksResource(
        events_dir=str(tmp_path / "events"),
        url_allowlist=["127.0.0.1"],
        slack_webhook_url=slack.url.replace("https://", "http://"),
    )
    result = run(instance, tmp_path, plain_http, DAY1, DAY1)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "is not https" in str(failure.step_failure_data.error)
    assert len(Outbox(tmp_path / "events" / "outbox").pending(["slack"])) == 2

    fixed = EventSinksResource(
        events_dir=str(tmp_path / "events"),
        url_allowlist=["127.0.0.1"],
        slack_webhook_url=slack.url,
        ca_bundle=str(tls_cert[0]),
    )
    assert run(instance, tmp_path, fixed, DAY1, DAY1).success
    assert len(slack.received) == 2
    assert Outbox(tmp_path / "events" / "outbox").pending(["slack", "local_event_log"]) == []


def test_nothing_is_sent_over_the_network_by_default(tmp_path: Path) -> None:
    sinks = EventSinksResource(events_dir=str(tmp_path)).sinks()
    assert [s.name for s in sinks] == ["local_event_log"]


@pytest.mark.slow
def test_an_unreachable_outbox_database_fails_before_any_day(
    tmp_path: Path, monkeypatch, instance
) -> None:
    """FINOPS_OUTBOX_DATABASE=postgres on a closed port: the step fails naming the setting,
    and no day of budget_events is written (so no event can be written without its outbox)."""
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.setenv("FINOPS_OUTBOX_DATABASE", "postgres")
    pg = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "1", "DAGSTER_PG_USER": "u"}
    for name, value in {**pg, "DAGSTER_PG_DB": "d", "DAGSTER_PG_PASSWORD": "p"}.items():
        monkeypatch.setenv(name, value)
    lake = LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD")
    write_allocated(lake, DAY1, "1000")
    result = run(instance, tmp_path, EventSinksResource(events_dir=str(tmp_path / "e")), DAY1, DAY1)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "budget_events"
    assert "FINOPS_OUTBOX_DATABASE=postgres" in str(failure.step_failure_data.error)
    assert not lake.delta().exists(tables.BUDGET_EVENTS)
