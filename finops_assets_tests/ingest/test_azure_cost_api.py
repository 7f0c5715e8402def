"""Azure Cost Management Query API: the real azure SDK against a local https server."""

import datetime as dt
import json
import time
from decimal import Decimal

import dagster as dg
import pytest
from azure.core.credentials import AccessToken
from azure.mgmt.costmanagement import CostManagementClient

from finops_assets.domain.sources import azure_cost
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.resources import azure_cost_api
from finops_assets.resources.azure_cost_api import (
    DEFAULT_COLUMNS,
    AzureCostQueryApi,
    AzureQueryOptions,
)
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.payloads import LandingError
from finops_assets.settings import SettingsError
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.azure_query import (
    QueryApiState,
    azure_query_server,
    self_signed_cert,
)

DAY = dt.date(2026, 10, 3)
SCOPE = "subscriptions/00000000-0000-0000-0000-00000000c0de"
QUERY_PATH = f"/{SCOPE}/providers/Microsoft.CostManagement/query"


class StaticToken:
    """Stands in for DefaultAzureCredential (no Entra ID here): a fixed bearer token."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken("test-token", int(time.time()) + 3600)


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def _rows(n: int) -> list[str]:
    """n rows with exact decimal costs in EUR and JPY, as the API's JSON text."""
    rows = []
    for i in range(n):
        currency = "JPY" if i % 5 == 0 else "EUR"
        cost = f"{i * 37 % 1000}.{i * 7919 % 10**10:010d}"
        rid = f"/subscriptions/x/resourceGroups/rg{i % 7}/providers/Microsoft.Web/sites/s{i % 11}"
        rows.append(f'[{cost},{cost},{DAY:%Y%m%d},"{rid}","Azure App Service","{currency}"]')
    return rows


def _expected_totals(rows: list[str]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        cells = json.loads(row, parse_float=Decimal)
        totals[cells[5]] = totals.get(cells[5], Decimal(0)) + cells[0]
    return totals


@pytest.fixture
def server(cert):
    state = QueryApiState(rows=_rows(2_500))
    with azure_query_server(*cert, state) as running:
        yield running


def _api(server, cert, retry_total=3) -> AzureCostQueryApi:
    client = CostManagementClient(
        StaticToken(),
        base_url=server.url,
        connection_verify=str(cert[0]),
        retry_total=retry_total,
        retry_backoff_factor=0.01,
    )
    return AzureCostQueryApi(client, AzureQueryOptions(scope=SCOPE, base_url=server.url))


def test_every_page_is_fetched_with_the_projection_and_the_day(server, cert):
    payloads = _api(server, cert).fetch("azure_cost", DAY)
    assert [p.name for p in payloads] == [f"azure_cost/{DAY}/page-000{n}.json" for n in (1, 2, 3)]
    assert [len(json.loads(p.data)["properties"]["rows"]) for p in payloads] == [1000, 1000, 500]
    assert [r["path"] for r in server.requests] == [QUERY_PATH] * 3
    assert [r["query"].get("$skiptoken") for r in server.requests] == [None, "1000", "2000"]
    assert all(r["auth"] == "Bearer test-token" for r in server.requests)
    body = server.requests[0]["body"]
    assert body["type"] == "ActualCost" and body["timeframe"] == "Custom"
    assert body["timePeriod"] == {"from": "2026-10-03T00:00:00Z", "to": "2026-10-03T23:59:59Z"}
    assert body["dataset"]["granularity"] == "Daily"
    assert body["dataset"]["configuration"]["columns"] == list(DEFAULT_COLUMNS)
    assert [g["name"] for g in body["dataset"]["grouping"]] == ["ResourceId", "ServiceName"]
    assert all(r["body"] == body for r in server.requests)


def test_a_429_is_retried_after_retry_after_and_the_day_completes(server, cert):
    server.throttle = {2: 1}
    payloads = _api(server, cert).fetch("azure_cost", DAY)
    assert len(payloads) == 3
    assert [r["query"].get("$skiptoken") for r in server.requests] == [None, "1000", "1000", "2000"]


def test_throttling_forever_fails_the_day_with_a_clear_error(server, cert):
    server.throttle = {3: 100}
    server.retry_after = "0"
    with pytest.raises(LandingError, match="page 3"):
        _api(server, cert, retry_total=2).fetch("azure_cost", DAY)
    assert len(server.requests) == 2 + 3  # pages 1-2, then page 3 tried once and retried twice


def test_a_next_link_to_another_host_is_refused():
    page = json.dumps({"properties": {"nextLink": "https://evil.example/x?$skiptoken=1"}})
    with pytest.raises(LandingError, match="leaves"):
        azure_cost_api.next_link(page.encode(), "https://management.azure.com")


def test_options_are_validated():
    with pytest.raises(SettingsError, match="FINOPS_AZURE_SCOPE"):
        AzureQueryOptions.from_env({})
    with pytest.raises(SettingsError, match="groupings"):
        AzureQueryOptions.from_env({"FINOPS_AZURE_SCOPE": SCOPE, "FINOPS_AZURE_GROUP_BY": "a,b,c"})
    options = AzureQueryOptions.from_env(
        {"FINOPS_AZURE_SCOPE": SCOPE, "FINOPS_AZURE_GROUP_BY": "ResourceId,tag:cost-center"}
    )
    grouping = azure_cost_api.query_body(options, DAY)["dataset"]["grouping"]
    assert grouping[1] == {"type": "TagKey", "name": "cost-center"}


@pytest.mark.slow
def test_raw_asset_archives_every_page_and_totals_equal_the_pages(
    server, cert, tmp_path, monkeypatch
):
    monkeypatch.setenv("FINOPS_SOURCE_AZURE_COST", "api")
    monkeypatch.setenv("FINOPS_AZURE_SCOPE", SCOPE)
    monkeypatch.setenv("FINOPS_AZURE_BASE_URL", server.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert[0]))  # requests trusts the test cert
    # The only stand-in: DefaultAzureCredential needs Entra ID, which cannot run here.
    monkeypatch.setattr(azure_cost_api, "default_credential", StaticToken)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_raw_asset(azure_cost)],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": LakeResource(lake_uri=str(tmp_path / "lake")),
                "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
            },
        )
    assert result.success
    raw = DeltaLake(str(tmp_path / "lake")).read_day(tables.raw_contract(azure_cost), DAY)
    assert raw.height == 2_500
    totals = dict(azure_cost.billed_totals(raw).iter_rows())
    assert totals == _expected_totals(server.rows)
    archive = tmp_path / "lake" / "_raw_archive" / "azure_cost" / DAY.isoformat()
    pages = [server.page(offset) for offset in (0, 1000, 2000)]
    assert sorted(f.read_bytes() for f in archive.iterdir()) == sorted(pages)
