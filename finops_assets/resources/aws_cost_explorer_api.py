"""AWS Cost Explorer as a PayloadSource: GetCostAndUsage pages fetched with boto3 `ce`.

Selected with FINOPS_SOURCE_AWS_COST_EXPLORER=api. Credentials come only from boto3's default
chain (environment, profile, SSO, instance role); the endpoint honours AWS_ENDPOINT_URL and
AWS_ENDPOINT_URL_COST_EXPLORER (boto3 reads them itself). botocore retries are off: tenacity
owns retries, a circuit breaker stops the run (see resources/retry.py).

Each response page is one Payload holding the response body exactly as received (captured with
a botocore `after-call` event hook), so the archive keeps what AWS sent byte for byte. Every
page of a day is fetched before the list is returned: a failure on page 7 of 10 raises, and
the raw asset writes nothing for that day.

Tuning (settings.py reads them into Settings.api_options; parsed when the source is built):

| variable                       | default              | meaning                          |
|--------------------------------|----------------------|----------------------------------|
| FINOPS_CE_GROUP_BY             | SERVICE,USAGE_TYPE   | up to two DIMENSION names or TAG:key |
| FINOPS_CE_ACCOUNT              | default              | account label in the request key |
| FINOPS_CE_MAX_ATTEMPTS         | 5                    | tenacity attempts per call       |
| FINOPS_CE_BACKOFF_SECONDS      | 1.0                  | first backoff, doubling, jittered |
| FINOPS_CE_CIRCUIT_THRESHOLD    | 5                    | consecutive failures that open the circuit |
"""

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from finops_assets.domain.sources.aws_cost_explorer import PROVIDER, SOURCE
from finops_assets.domain.sources.common import ingestion_key
from finops_assets.resources.payloads import Payload, PayloadSource
from finops_assets.resources.retry import CircuitBreaker, RetryPolicy, call_with_retries
from finops_assets.settings import Settings, SettingsError

FORECAST_SOURCE = "aws_cost_forecast"
METRICS = ("UnblendedCost", "AmortizedCost", "NetUnblendedCost", "UsageQuantity")
DEFAULT_GROUP_BY = "SERVICE,USAGE_TYPE"
MAX_PAGES = 10_000  # a guard against a server that never stops sending NextPageToken
_NO_BOTOCORE_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@dataclass(frozen=True)
class CostExplorerOptions:
    """What to ask Cost Explorer for, and how to retry."""

    group_by: tuple[tuple[str, str], ...] = (("DIMENSION", "SERVICE"), ("DIMENSION", "USAGE_TYPE"))
    account: str = "default"
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "CostExplorerOptions":
        """Options from FINOPS_CE_* variables (Settings.api_options; see the module docstring)."""
        try:
            attempts = int(env.get("FINOPS_CE_MAX_ATTEMPTS", "5"))
            backoff = float(env.get("FINOPS_CE_BACKOFF_SECONDS", "1.0"))
            policy = RetryPolicy(
                max_attempts=attempts,
                initial_wait=backoff,
                jitter=backoff,
                breaker_threshold=int(env.get("FINOPS_CE_CIRCUIT_THRESHOLD", str(attempts))),
            )
        except ValueError as error:
            raise SettingsError(f"FINOPS_CE_* retry settings must be numbers: {error}") from error
        return cls(
            group_by=parse_group_by(env.get("FINOPS_CE_GROUP_BY", DEFAULT_GROUP_BY)),
            account=env.get("FINOPS_CE_ACCOUNT", "default"),
            policy=policy,
        )


def parse_group_by(text: str) -> tuple[tuple[str, str], ...]:
    """'SERVICE,TAG:team' -> (('DIMENSION', 'SERVICE'), ('TAG', 'team')); at most two."""
    groups = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, _, key = item.partition(":")
        if kind.upper() in ("TAG", "COST_CATEGORY") and key:
            groups.append((kind.upper(), key))
        elif not key and item.replace("_", "").isalnum():
            groups.append(("DIMENSION", item.upper()))
        else:
            raise SettingsError(f"FINOPS_CE_GROUP_BY: {item!r} is not a dimension or TAG:key")
    if len(groups) > 2:
        raise SettingsError("FINOPS_CE_GROUP_BY: Cost Explorer groups by at most two keys")
    return tuple(groups)


def usage_request(day: dt.date, options: CostExplorerOptions) -> dict[str, Any]:
    """The GetCostAndUsage request for exactly one charge day (End is exclusive)."""
    return {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + dt.timedelta(days=1)).isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
        "GroupBy": [{"Type": kind, "Key": key} for kind, key in options.group_by],
    }


class CostExplorerApi(PayloadSource):
    """GetCostAndUsage pages for one day, each page archived as received."""

    def __init__(self, client: Any, options: CostExplorerOptions | None = None):
        self.client = client
        self.options = options or CostExplorerOptions()
        self.breaker = CircuitBreaker(self.options.policy.breaker_threshold)
        self._bodies = threading.local()
        client.meta.events.register("after-call.cost-explorer", self._capture_body)

    def _capture_body(self, http_response: Any, **_: Any) -> None:
        self._bodies.last = http_response.content

    def _call(self, operation: str, **request: Any) -> tuple[dict[str, Any], bytes]:
        """One API call through tenacity and the breaker: (parsed response, raw body)."""
        method = getattr(self.client, _snake(operation))

        def attempt() -> tuple[dict[str, Any], bytes]:
            self._bodies.last = b""
            parsed = method(**request)
            return parsed, self._bodies.last

        return call_with_retries(
            f"Cost Explorer {operation}", attempt, self.options.policy, self.breaker
        )

    def request_key(self, day: dt.date) -> str:
        """Deterministic ingestion key of the day's request: provider, account, day, request."""
        return ingestion_key(PROVIDER, self.options.account, day, usage_request(day, self.options))

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """Every GetCostAndUsage page of `day`, following NextPageToken until it is exhausted."""
        if source != SOURCE:
            raise SettingsError(f"the Cost Explorer API serves {SOURCE}, not {source}")
        request = usage_request(day, self.options)
        key = self.request_key(day)
        digest = key.rsplit(":", 1)[-1]
        payloads: list[Payload] = []
        token: str | None = None
        for index in range(1, MAX_PAGES + 1):
            page_request = dict(request, NextPageToken=token) if token else request
            parsed, body = self._call("GetCostAndUsage", **page_request)
            name = f"{SOURCE}/{day.isoformat()}/ce-{digest}-page-{index:04d}.json"
            payloads.append(Payload(name, body, _now(), ingestion_key=key))
            token = parsed.get("NextPageToken")
            if not token:
                return payloads
        raise RuntimeError(f"Cost Explorer GetCostAndUsage: more than {MAX_PAGES} pages for {day}")

    def fetch_forecast(
        self, start: dt.date, end: dt.date, metric: str = "UNBLENDED_COST"
    ) -> Payload:
        """GetCostForecast for [start, end) monthly, as one payload of source aws_cost_forecast.

        For actuation (budgets): the caller archives or parses the body; `start` must be today
        or later, as Cost Explorer requires.
        """
        request = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Metric": metric,
            "Granularity": "MONTHLY",
            "PredictionIntervalLevel": 80,
        }
        _, body = self._call("GetCostForecast", **request)
        digest = ingestion_key(PROVIDER, self.options.account, start, request).rsplit(":", 1)[-1]
        name = f"{FORECAST_SOURCE}/{start.isoformat()}/forecast-{digest}.json"
        return Payload(name, body, _now())


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def cost_explorer_client() -> Any:
    """A boto3 `ce` client from the default credential chain, with botocore retries off."""
    session = boto3.session.Session()
    # Cost Explorer has one endpoint, in us-east-1, whatever the default region.
    region = session.region_name or "us-east-1"
    return session.client("ce", region_name=region, config=_NO_BOTOCORE_RETRIES)


def from_location(location: str, settings: Settings, clients: object = None) -> CostExplorerApi:
    """FINOPS_SOURCE_AWS_COST_EXPLORER=api -> the Cost Explorer API source."""
    if location != "api":
        raise SettingsError(f"the Cost Explorer backend takes 'api', not {location!r}")
    return CostExplorerApi(
        cost_explorer_client(), CostExplorerOptions.from_env(settings.api_options)
    )
