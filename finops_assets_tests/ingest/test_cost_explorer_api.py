"""Cost Explorer API source: real boto3 against a local JSON 1.1 server, and the real raw asset."""

import datetime as dt
import json

import dagster as dg
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.sources import aws_cost_explorer
from finops_assets.ingest.assets import build_raw_asset
from finops_assets.partitions import daily_partitions
from finops_assets.resources.aws_cost_explorer_api import (
    CostExplorerApi,
    CostExplorerOptions,
    cost_explorer_client,
    parse_group_by,
)
from finops_assets.resources.lake import LakeResource, LandingResource
from finops_assets.resources.retry import CircuitOpenError, RetryPolicy
from finops_assets.sample.aws_cost_explorer_writer import build_pages
from finops_assets.settings import SettingsError
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.servers.cost_explorer import CostExplorerServer, Script

DAY = dt.date(2026, 10, 5)
FAST = RetryPolicy(
    max_attempts=4, initial_wait=0.001, max_wait=0.01, jitter=0.001, breaker_threshold=4
)
RAW = tables.raw_contract(aws_cost_explorer)


@pytest.fixture
def server(monkeypatch):
    """A Cost Explorer serving the sample day as 10 pages; boto3 pointed at it by env only."""
    pages = build_pages(DAY, seed=7, rows_per_day=480, page_size=48)
    assert len(pages) == 10
    with CostExplorerServer(Script(pages=pages)) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_COST_EXPLORER", running.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield running


def _api(policy: RetryPolicy = FAST) -> CostExplorerApi:
    return CostExplorerApi(cost_explorer_client(), CostExplorerOptions(policy=policy))


def test_every_page_is_fetched_and_kept_byte_for_byte(server):
    payloads = _api().fetch("aws_cost_explorer", DAY)
    assert [p.data for p in payloads] == server.sent
    assert len(payloads) == 10 and server.calls == 10
    assert payloads[2].name.startswith("aws_cost_explorer/2026-10-05/ce-")
    assert payloads[2].name.endswith("-page-0003.json")
    first, later = server.requests[0][1], server.requests[1][1]
    assert first["TimePeriod"] == {"Start": "2026-10-05", "End": "2026-10-06"}
    assert first["Granularity"] == "DAILY"
    assert first["Metrics"] == [
        "UnblendedCost",
        "AmortizedCost",
        "NetUnblendedCost",
        "UsageQuantity",
    ]
    assert first["GroupBy"] == [
        {"Type": "DIMENSION", "Key": "SERVICE"},
        {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
    ]
    assert "NextPageToken" not in first and later["NextPageToken"] == "page-1"


@pytest.mark.slow
def test_throttling_then_success_costs_one_http_call_per_attempt(server):
    server.script.throttle_first = 3
    payloads = _api().fetch("aws_cost_explorer", DAY)
    # botocore retries are off: 3 throttled attempts + 10 pages = 13 calls at the server
    assert len(payloads) == 10 and server.calls == 13


def test_throttling_forever_opens_the_circuit_with_a_clear_message(server):
    server.script.throttle_forever = True
    with pytest.raises(CircuitOpenError) as failure:
        _api().fetch("aws_cost_explorer", DAY)
    message = str(failure.value)
    assert "GetCostAndUsage" in message and "ThrottlingException" in message
    assert "circuit open after 4 consecutive failures" in message
    assert server.calls == FAST.max_attempts  # one HTTP call per tenacity attempt, no more


def test_limit_exceeded_is_retried_and_access_denied_is_not(server):
    server.script.error_type = "LimitExceededException"
    server.script.throttle_first = 2
    assert len(_api().fetch("aws_cost_explorer", DAY)) == 10 and server.calls == 12
    server.calls, server.script.throttle_first = 0, 1
    server.script.error_type = "AccessDeniedException"
    with pytest.raises(RuntimeError, match="GetCostAndUsage failed after 1 attempt"):
        _api().fetch("aws_cost_explorer", DAY)
    assert server.calls == 1


@pytest.mark.slow
def test_a_single_reset_is_retried_and_the_day_is_complete(server):
    server.script.drop_calls = {4}
    payloads = _api().fetch("aws_cost_explorer", DAY)
    assert [p.data for p in payloads] == server.sent and server.calls == 11


def test_server_errors_are_retried(server):
    server.script.server_error_calls = {1, 2}
    assert len(_api().fetch("aws_cost_explorer", DAY)) == 10


@pytest.mark.slow
def test_forecast_is_fetched_as_its_own_payload(server):
    server.script.forecast = {"Total": {"Amount": "1234.5", "Unit": "USD"}}
    payload = _api().fetch_forecast(dt.date(2026, 11, 26), dt.date(2026, 12, 1))
    assert json.loads(payload.data) == server.script.forecast
    assert payload.name.startswith("aws_cost_forecast/2026-11-26/forecast-")
    operation, request = server.requests[-1]
    assert operation == "GetCostForecast" and request["Granularity"] == "MONTHLY"


def test_request_key_is_deterministic_and_names_the_request():
    api = CostExplorerApi(_StubClient(), CostExplorerOptions(account="123456789012"))
    assert api.request_key(DAY) == api.request_key(DAY)
    assert api.request_key(DAY).startswith("aws:123456789012:2026-10-05:")
    other = CostExplorerApi(_StubClient(), CostExplorerOptions(group_by=(("TAG", "team"),)))
    assert other.request_key(DAY).split(":")[-1] != api.request_key(DAY).split(":")[-1]


def test_group_by_setting():
    assert parse_group_by("LINKED_ACCOUNT, TAG:cost-center") == (
        ("DIMENSION", "LINKED_ACCOUNT"),
        ("TAG", "cost-center"),
    )
    with pytest.raises(SettingsError, match="at most two"):
        parse_group_by("SERVICE,USAGE_TYPE,REGION")
    env = {"FINOPS_CE_GROUP_BY": "SERVICE", "FINOPS_CE_MAX_ATTEMPTS": "2"}
    options = CostExplorerOptions.from_env(env)
    assert options.group_by == (("DIMENSION", "SERVICE"),) and options.policy.max_attempts == 2


class _StubClient:
    """Stands in for a boto3 client where no call is made (request keys only)."""

    class meta:  # noqa: N801 (mirrors boto3's client.meta)
        class events:  # noqa: N801
            @staticmethod
            def register(*args, **kwargs):
                return None


# --- through the real raw asset, on a real Dagster instance and a Delta lake in tmp ---------


def _materialize(tmp_path, instance):
    asset = build_raw_asset(aws_cost_explorer)
    return dg.materialize(
        [asset],
        partition_key=DAY.isoformat(),
        instance=instance,
        resources={
            "lake": LakeResource(lake_uri=str(tmp_path / "lake")),
            "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
        },
        raise_on_error=False,
    )


@pytest.fixture
def api_env(server, monkeypatch):
    monkeypatch.setenv("FINOPS_SOURCE_AWS_COST_EXPLORER", "api")
    monkeypatch.setenv("FINOPS_CE_BACKOFF_SECONDS", "0.001")
    monkeypatch.setenv("FINOPS_CE_MAX_ATTEMPTS", "3")
    return server


def _failure_message(result) -> str:
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return str(failures[0].step_failure_data.error)


@pytest.mark.parametrize("failure", ["throttle_forever", "reset_from_page_7"])
@pytest.mark.slow
def test_a_failed_fetch_fails_the_run_and_leaves_the_day_as_it_was(api_env, tmp_path, failure):
    lake = DeltaLake(str(tmp_path / "lake"))
    with dg.instance_for_test() as instance:
        first = _materialize(tmp_path, instance)
        assert first.success
        before, version = lake.read_day(RAW, DAY), lake.version(RAW)
        assert before.height == 480 and before["x_source_file"].n_unique() == 10
        api_env.calls = 0
        if failure == "throttle_forever":
            api_env.script.throttle_forever = True
        else:
            api_env.script.drop_calls = set(range(7, 100))
        second = _materialize(tmp_path, instance)
    assert not second.success
    message = _failure_message(second)
    assert "Cost Explorer GetCostAndUsage: circuit open after 3 consecutive failures" in message
    expected = "ThrottlingException" if failure == "throttle_forever" else "ConnectionClosedError"
    assert expected in message
    # throttled: 3 attempts on page 1; reset: pages 1-6 answered, then 3 attempts on page 7
    assert api_env.calls == (3 if failure == "throttle_forever" else 9)
    assert lake.version(RAW) == version
    assert_frame_equal(lake.read_day(RAW, DAY), before)


def _materialize_range(tmp_path, instance, first: dt.date, last: dt.date):
    return dg.materialize(
        [build_raw_asset(aws_cost_explorer)],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        resources={
            "lake": LakeResource(lake_uri=str(tmp_path / "lake")),
            "landing": LandingResource(landing_dir=str(tmp_path / "landing")),
        },
        raise_on_error=False,
    )


@pytest.mark.slow
def test_a_multi_day_run_failing_on_its_last_day_records_each_day_it_wrote(api_env, tmp_path):
    """A restated first day is written and recorded; the failed last day keeps its old rows."""
    day2 = DAY + dt.timedelta(days=1)
    script = api_env.script
    script.pages_by_day = {
        DAY.isoformat(): build_pages(DAY, seed=7, rows_per_day=60, page_size=30),
        day2.isoformat(): build_pages(day2, seed=8, rows_per_day=40, page_size=20),
    }
    lake, key = DeltaLake(str(tmp_path / "lake")), dg.AssetKey(RAW.name)
    with dg.instance_for_test() as instance:
        assert _materialize_range(tmp_path, instance, DAY, day2).success
        day2_before = lake.read_day(RAW, day2)
        script.pages_by_day[DAY.isoformat()] = build_pages(DAY, 9, rows_per_day=70, page_size=35)
        script.throttle_days = {day2.isoformat()}

        second = _materialize_range(tmp_path, instance, DAY, day2)

        assert not second.success
        statuses = instance.get_status_by_partition(
            key, [DAY.isoformat(), day2.isoformat()], daily_partitions
        )
        assert {day: status.value for day, status in statuses.items()} == {
            DAY.isoformat(): "MATERIALIZED",
            day2.isoformat(): "FAILED",
        }
        recorded = [
            e.materialization.partition
            for e in second.get_asset_materialization_events()
            if e.materialization.asset_key == key
        ]
    assert recorded == [DAY.isoformat()]  # the restated day is on record in the failed run
    assert lake.read_day(RAW, DAY).height == 70  # ... and its new rows are the table's
    assert_frame_equal(lake.read_day(RAW, day2), day2_before)  # the failed day: untouched
    assert "ThrottlingException" in _failure_message(second)
