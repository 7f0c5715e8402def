"""Where events go: the outbox and the configured sinks (embedded default: a local log only).

Real sinks are switched on by configuration alone; nothing is sent over the network by default.
Secrets come through `dagster.EnvVar` (or `{env: VAR}` in run config), read at launch:

    EventSinksResource(
        slack_webhook_url=dg.EnvVar("FINOPS_SLACK_WEBHOOK_URL"),
        pagerduty_routing_key=dg.EnvVar("FINOPS_PAGERDUTY_ROUTING_KEY"),
        cloudevents_webhook_url="https://finops-admission.finops.svc/events",
        cloudevents_webhook_token=dg.EnvVar("FINOPS_ADMISSION_EVENTS_TOKEN"),
        url_allowlist=["finops-admission.finops.svc"],
    )
"""

from pathlib import Path

from dagster import ConfigurableResource

from finops_assets.resources.event_sinks import EventSink, LocalEventLogSink
from finops_assets.resources.http_sinks import (
    DEFAULT_ALLOWLIST,
    PAGERDUTY_ENQUEUE_URL,
    CloudEventsWebhookSink,
    PagerDutySink,
    SlackWebhookSink,
)
from finops_assets.resources.outbox import DEFAULT_LEASE_SECONDS, Outbox
from finops_assets.resources.outbox_db import outbox_database
from finops_assets.resources.outbox_store import OutboxStoreResource
from finops_assets.settings import Settings


class EventSinksResource(ConfigurableResource):
    """The outbox folder and the sinks: a JSON-lines log under FINOPS_HOME, plus configured ones.

    The outbox is a database chosen in settings (FINOPS_OUTBOX_DATABASE): SQLite in the events
    folder (embedded), or the instance's PostgreSQL in its own schema (production); a sink is
    handed to one worker at a time under a lease of `outbox_lease_seconds`.
    A sink is on when its URL (Slack, CloudEvents webhook) or routing key (PagerDuty) is set.
    Every URL must be https on a host of DEFAULT_ALLOWLIST + `url_allowlist`; `ca_bundle` names
    a CA file to trust instead of the system's (a private CA, or a test's self-signed cert).
    """

    events_dir: str = ""
    retries: int = 3
    backoff_seconds: float = 0.5
    timeout_seconds: float = 10.0
    url_allowlist: list[str] = []
    ca_bundle: str = ""
    slack_webhook_url: str = ""
    pagerduty_routing_key: str = ""
    pagerduty_url: str = PAGERDUTY_ENQUEUE_URL
    cloudevents_webhook_url: str = ""
    cloudevents_webhook_token: str = ""
    outbox_lease_seconds: float = DEFAULT_LEASE_SECONDS
    slack_resend_unknown: bool = False  # resend a Slack message whose send timed out (dupes!)
    outbox_store: OutboxStoreResource | None = None  # unset: FINOPS_OUTBOX_DATABASE at run time

    def folder(self) -> Path:
        """The folder of the outbox and the local event logs."""
        return Path(self.events_dir) if self.events_dir else Settings.from_env().home / "events"

    def outbox(self) -> Outbox:
        """The durable outbox (pending events survive runs, processes and pods)."""
        if self.outbox_store is not None:
            database = self.outbox_store.database(self.folder())
        else:
            database = outbox_database(Settings.from_env(), self.folder())
        return Outbox(database=database, lease_seconds=self.outbox_lease_seconds)

    def sinks(self, log_name: str = "budget_events.jsonl") -> list[EventSink]:
        """The local log plus every configured network sink; an unsafe URL raises UnsafeUrlError."""
        sinks: list[EventSink] = [LocalEventLogSink(self.folder() / log_name)]
        allowlist = [*DEFAULT_ALLOWLIST, *self.url_allowlist]
        verify: bool | str = self.ca_bundle or True
        timeout = self.timeout_seconds
        if self.slack_webhook_url:
            slack = SlackWebhookSink("slack", self.slack_webhook_url, allowlist, verify, timeout)
            slack.at_most_once = not self.slack_resend_unknown
            sinks.append(slack)
        if self.pagerduty_routing_key:
            sinks.append(
                PagerDutySink(
                    self.pagerduty_routing_key,
                    name="pagerduty",
                    url=self.pagerduty_url,
                    allowlist=allowlist,
                    verify=verify,
                    timeout_seconds=timeout,
                )
            )
        if self.cloudevents_webhook_url:
            sinks.append(
                CloudEventsWebhookSink(
                    self.cloudevents_webhook_token,
                    name="cloudevents_webhook",
                    url=self.cloudevents_webhook_url,
                    allowlist=allowlist,
                    verify=verify,
                    timeout_seconds=timeout,
                )
            )
        return sinks
