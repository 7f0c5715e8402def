"""Azure Cost Management Query API, through azure-mgmt-costmanagement's CostManagementClient.

One request per charge day: `timeframe=Custom` for exactly that UTC day, Daily granularity, the
cost summed (`Cost`, `CostUSD`) and grouped by at most two groupings (the API's limit; default
ResourceId and ServiceName, a `tag:<key>` grouping is a TagKey), with the columns projected
explicitly in `dataset.configuration.columns`. `query.usage` returns the first page only, so
`properties.nextLink` (absolute, carrying `$skiptoken`) is followed here through the same client
pipeline (bearer token, retries). azure-core's RetryPolicy honours 429 with `Retry-After`.

Every page is one Payload holding the response body exactly as received; all pages of a day are
fetched before any is returned, so a failure midway leaves the day as it was.

Cost type: the `azure_cost_raw` table holds one cost type per deployment, ActualCost by default
(what the invoice bills). FINOPS_AZURE_COST_TYPE=AmortizedCost switches it; both at once would
double count the billed total, and the raw contract has no cost-type column.
"""

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from finops_assets.resources.payloads import LandingError, Payload, PayloadSource
from finops_assets.settings import Settings, SettingsError

DEFAULT_BASE_URL = "https://management.azure.com"
COST_TYPES = ("ActualCost", "AmortizedCost")
MAX_GROUPINGS = 2
DEFAULT_GROUP_BY = ("ResourceId", "ServiceName")
DEFAULT_COLUMNS = (
    "UsageDate",
    "Cost",
    "CostUSD",
    "Currency",
    "ResourceId",
    "ServiceName",
    "ResourceGroupName",
    "SubscriptionId",
    "ResourceLocation",
    "MeterCategory",
    "ChargeType",
    "PricingModel",
)
MAX_PAGES = 10_000


@dataclass(frozen=True)
class AzureQueryOptions:
    """What to ask the Query API: scope, cost type, groupings, projected columns, endpoint."""

    scope: str
    cost_type: str = "ActualCost"
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    base_url: str = DEFAULT_BASE_URL

    def __post_init__(self) -> None:
        if not self.scope.strip("/"):
            raise SettingsError("FINOPS_AZURE_SCOPE is required, e.g. subscriptions/<id>")
        if self.cost_type not in COST_TYPES:
            raise SettingsError(f"FINOPS_AZURE_COST_TYPE={self.cost_type!r}: use {COST_TYPES}")
        if not 0 < len(self.group_by) <= MAX_GROUPINGS:
            raise SettingsError(f"FINOPS_AZURE_GROUP_BY: 1 to {MAX_GROUPINGS} groupings")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "AzureQueryOptions":
        """FINOPS_AZURE_SCOPE, _BASE_URL, _COST_TYPE, _GROUP_BY, _COLUMNS (Settings.api_options)."""

        def listed(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            value = env.get(name, "")
            return tuple(v.strip() for v in value.split(",") if v.strip()) or default

        return cls(
            scope=env.get("FINOPS_AZURE_SCOPE", ""),
            cost_type=env.get("FINOPS_AZURE_COST_TYPE", "ActualCost"),
            group_by=listed("FINOPS_AZURE_GROUP_BY", DEFAULT_GROUP_BY),
            columns=listed("FINOPS_AZURE_COLUMNS", DEFAULT_COLUMNS),
            base_url=env.get("FINOPS_AZURE_BASE_URL") or DEFAULT_BASE_URL,
        )


def query_body(options: AzureQueryOptions, day: dt.date) -> dict[str, Any]:
    """The Query API request body (a QueryDefinition) for exactly one UTC day."""
    grouping = [
        {"type": "TagKey", "name": g[4:]}
        if g.lower().startswith("tag:")
        else {"type": "Dimension", "name": g}
        for g in options.group_by
    ]
    return {
        "type": options.cost_type,
        "timeframe": "Custom",
        "timePeriod": {
            "from": f"{day.isoformat()}T00:00:00Z",
            "to": f"{day.isoformat()}T23:59:59Z",
        },
        "dataset": {
            "granularity": "Daily",
            "configuration": {"columns": list(options.columns)},
            "aggregation": {
                "Cost": {"name": "Cost", "function": "Sum"},
                "CostUSD": {"name": "CostUSD", "function": "Sum"},
            },
            "grouping": grouping,
        },
    }


def next_link(page: bytes, base_url: str) -> str | None:
    """properties.nextLink of a page; refused when it points at another host (token leak)."""
    link = (json.loads(page).get("properties") or {}).get("nextLink")
    if not link:
        return None
    if urlsplit(link).netloc.lower() != urlsplit(base_url).netloc.lower():
        raise LandingError(f"nextLink {link!r} leaves {base_url}; refusing to send the token there")
    return link


class AzureCostQueryApi(PayloadSource):
    """Query API pages for one scope and day; client is a CostManagementClient."""

    def __init__(self, client: Any, options: AzureQueryOptions):
        self.client = client
        self.options = options

    def _first_page(self, body: dict[str, Any]) -> Any:
        scope = self.options.scope.strip("/")
        return self.client.query.usage(scope, json.dumps(body).encode(), cls=_raw_response)

    def fetch(self, source: str, day: dt.date) -> list[Payload]:
        """Every page of the day's query, raw bytes, in order (page-0001.json, ...)."""
        from azure.core.rest import HttpRequest

        body = query_body(self.options, day)
        pages = [_body(partial(self._first_page, body), "page 1")]
        link = next_link(pages[-1], self.options.base_url)
        while link:
            if len(pages) >= MAX_PAGES:
                raise LandingError(f"more than {MAX_PAGES} pages for {day}; stopping")
            request = HttpRequest("POST", link, json=body)
            pages.append(
                _body(partial(self.client.send_request, request), f"page {len(pages) + 1}")
            )
            link = next_link(pages[-1], self.options.base_url)
        fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return [
            Payload(
                name=f"{source}/{day.isoformat()}/page-{n:04d}.json", data=d, fetched_at=fetched_at
            )
            for n, d in enumerate(pages, start=1)
        ]


def _raw_response(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    """`cls` hook of query.usage: keep the HTTP response, its bytes are the payload."""
    return pipeline_response.http_response


def _body(call: Callable[[], Any], what: str) -> bytes:
    """The body of one call; an HTTP error (after azure-core's retries) fails the whole day."""
    from azure.core.exceptions import HttpResponseError

    try:
        response = call()
        response.raise_for_status()
    except HttpResponseError as error:
        raise LandingError(f"Cost Management query failed on {what}: {error.message}") from error
    return response.read() if hasattr(response, "read") else response.body()


def default_credential() -> Any:
    """azure-identity's chain: environment, workload identity, managed identity, Azure CLI..."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def from_location(location: str, settings: Settings, clients: object = None) -> AzureCostQueryApi:
    """FINOPS_SOURCE_AZURE_COST=api -> the Query API with DefaultAzureCredential."""
    if location != "api":
        raise SettingsError(f"the Azure Cost Management backend takes 'api', not {location!r}")
    from azure.mgmt.costmanagement import CostManagementClient

    options = AzureQueryOptions.from_env(settings.api_options)
    client = CostManagementClient(default_credential(), base_url=options.base_url)
    return AzureCostQueryApi(client, options)
