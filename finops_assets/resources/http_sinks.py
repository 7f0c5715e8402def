"""Real event sinks over HTTPS: Slack incoming webhook, PagerDuty Events API v2, CloudEvents webhook.

Each sink receives the CloudEvents structured JSON the outbox holds and turns it into what the
receiver expects. URLs are checked with `check_sink_url` (https, allowlisted host, not internal)
when the sink is built, so a bad URL fails before anything is sent. A non-2xx answer raises
`SinkDeliveryError`; the outbox records it and retries (see event_sinks.Outbox).
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from finops_assets.resources.event_sinks import DeliveryOutcomeUnknown, EventSink
from finops_assets.security.hardening import UnsafeUrlError, check_sink_url

CLOUDEVENTS_JSON = "application/cloudevents+json"
PAGERDUTY_ENQUEUE_URL = "https://events.pagerduty.com/v2/enqueue"
DEFAULT_ALLOWLIST = ("hooks.slack.com", "events.pagerduty.com", "events.eu.pagerduty.com")
BUDGET_CROSSED = "com.finops.budget.threshold.crossed"
BUDGET_RESOLVED = "com.finops.budget.threshold.resolved"


class SinkDeliveryError(RuntimeError):
    """The receiver answered with an error status, or could not be reached (the outbox retries).

    It carries only what is safe to store: the sink's name, the HTTP status (None when no answer
    came), the kind of failure, and the SHA-256 and length of the answer's body. Never the body,
    the URL or a key: receivers and proxies echo requests, so a body may hold the secret.
    """

    def __init__(self, sink: str, status: int | None, kind: str, body: bytes | None = None) -> None:
        self.sink, self.status, self.kind = sink, status, kind
        self.body_sha256 = hashlib.sha256(body).hexdigest() if body is not None else ""
        self.body_bytes = len(body) if body is not None else 0
        super().__init__(self.safe_message())

    def safe_message(self) -> str:
        """The failure in words that hold no secret (built from the safe fields only)."""
        if self.status is None:
            return f"{self.sink}: {self.kind} (no HTTP answer)"
        return (
            f"{self.sink}: HTTP {self.status} {self.kind}; body of {self.body_bytes} bytes, "
            f"sha256 {self.body_sha256[:16]}"
        )


class SinkOutcomeUnknown(SinkDeliveryError, DeliveryOutcomeUnknown):
    """The request was sent and no answer came in time: the receiver may have it."""


def redacted_url(url: str) -> str:
    """`url` as scheme://host:port only: a webhook URL's path is its secret, never logged."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "<malformed URL>"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}/<redacted>"


def _parse_event(event_json: bytes, event_id: str) -> dict[str, Any]:
    event = json.loads(event_json)
    if not isinstance(event, dict) or event.get("id") != event_id:
        raise ValueError(f"event {event_id}: payload is not a CloudEvent with that id")
    return event


class HttpSink(EventSink):
    """POSTs to one https URL; `verify` is True (system CAs) or the path of a CA bundle."""

    def __init__(
        self,
        name: str,
        url: str,
        allowlist: Sequence[str],
        verify: bool | str = True,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.name = name
        try:
            self.url = check_sink_url(url, allowlist)
        except UnsafeUrlError as error:
            raise UnsafeUrlError(str(error).replace(url, redacted_url(url))) from None
        self.verify = verify
        self.timeout_seconds = timeout_seconds

    def post(self, body: bytes, headers: Mapping[str, str]) -> requests.Response:
        """Send `body`; raise SinkDeliveryError on a non-2xx status (redirects are not followed)."""
        try:
            response = requests.post(
                self.url,
                data=body,
                headers=dict(headers),
                verify=self.verify,
                timeout=self.timeout_seconds,
                allow_redirects=False,
            )
        except requests.ReadTimeout:  # sent, no answer: it may have arrived
            raise SinkOutcomeUnknown(self.name, None, "ReadTimeout after send") from None
        except requests.RequestException as error:  # its message holds the URL's path: dropped
            raise SinkDeliveryError(self.name, None, type(error).__name__) from None
        if not 200 <= response.status_code < 300:
            raise SinkDeliveryError(self.name, response.status_code, "rejected", response.content)
        return response


def slack_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack Block Kit message for a CloudEvent: header, the key figures, and the event id."""
    data = event.get("data") or {}
    kind = str(event.get("type", "")).rsplit(".", 1)[-1].replace("_", " ")
    if "budget_id" in data:
        title = f"Budget {data['budget_id']}: {data.get('threshold_percent')}% {kind}"
        fields = [
            ("Scope", str(event.get("subject", ""))),
            ("Month", str(data.get("month", ""))),
            ("Actual MTD", f"{data.get('actual_mtd')} {data.get('currency', '')}"),
            ("Forecast", f"{data.get('forecast_month_end')} {data.get('currency', '')}"),
            ("Budget", f"{data.get('budget_amount')} {data.get('currency', '')}"),
            ("Enforcement", str(data.get("enforcement", ""))),
        ]
    else:
        title = f"{event.get('type')}: {event.get('subject', '')}"
        fields = [(str(k), str(v)) for k, v in sorted(data.items())[:10]]
    return {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields],
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"event `{event['id']}` at {event.get('time', '')}"}
                ],
            },
        ],
    }


class SlackWebhookSink(HttpSink):
    """Posts a Block Kit message to a Slack incoming webhook (the URL is the secret).

    Slack cannot drop a repeated message, so the sink is at most once: a send whose answer timed
    out is recorded as unknown and not resent (unless `at_most_once` is switched off).
    """

    at_most_once = True

    def deliver(self, event_json: bytes, event_id: str) -> None:
        """Send the event as a Slack message."""
        message = slack_message(_parse_event(event_json, event_id))
        self.post(json.dumps(message).encode(), {"Content-Type": "application/json"})


def pagerduty_dedup_key(event: Mapping[str, Any]) -> str:
    """budget/month/threshold for budget events (trigger and resolve share it); else the id."""
    data = event.get("data") or {}
    if event.get("type") in (BUDGET_CROSSED, BUDGET_RESOLVED):
        return f"{data['budget_id']}/{data['month']}/{data['threshold_percent']}"
    return str(event["id"])


def pagerduty_event(event: Mapping[str, Any], routing_key: str) -> dict[str, Any]:
    """The PagerDuty Events API v2 body: trigger, or resolve for a resolved budget event."""
    data = event.get("data") or {}
    dedup_key = pagerduty_dedup_key(event)
    if event.get("type") == BUDGET_RESOLVED:
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    hard_over = data.get("enforcement") == "hard" and int(data.get("threshold_percent", 0)) >= 100
    summary = slack_message(event)["text"]
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": summary[:1024],
            "source": str(event.get("source", "finops_assets")),
            "severity": "critical" if hard_over else "warning",
            "timestamp": event.get("time"),
            "component": str(event.get("subject", "")),
            "class": str(event.get("type", "")),
            "custom_details": {**data, "cloudevent_id": event["id"]},
        },
    }


class PagerDutySink(HttpSink):
    """PagerDuty Events API v2: trigger per budget/month/threshold, resolve when back under."""

    def __init__(self, routing_key: str, **kwargs: Any) -> None:
        if not routing_key:
            raise ValueError("pagerduty: routing key is empty")
        super().__init__(**kwargs)
        self.routing_key = routing_key

    def deliver(self, event_json: bytes, event_id: str) -> None:
        """Send a trigger or resolve event; PagerDuty answers 202 Accepted."""
        body = pagerduty_event(_parse_event(event_json, event_id), self.routing_key)
        self.post(json.dumps(body).encode(), {"Content-Type": "application/json"})


class CloudEventsWebhookSink(HttpSink):
    """POSTs the CloudEvent as is, structured JSON (e.g. to the admission webhook's /events)."""

    def __init__(self, token: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token = token

    def deliver(self, event_json: bytes, event_id: str) -> None:
        """Send the structured CloudEvent with content type application/cloudevents+json."""
        _parse_event(event_json, event_id)
        headers = {"Content-Type": f"{CLOUDEVENTS_JSON}; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.post(event_json, headers)
