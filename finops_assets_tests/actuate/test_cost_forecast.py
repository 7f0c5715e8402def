"""budget_status shows AWS's GetCostForecast next to our own month-end forecast.

moto 5.2 has no ce:GetCostForecast, so Cost Explorer is the local server speaking the CE JSON
1.1 protocol on 127.0.0.1 (finops_assets_tests/servers/cost_explorer.py); the client is real
boto3, pointed at it with AWS_ENDPOINT_URL_COST_EXPLORER.
"""

import datetime as dt
import json
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest

from finops_assets.actuate import assets as actuate_assets
from finops_assets.definitions import cost_forecast_for
from finops_assets.domain.allocate import ALLOCATED_COLUMNS
from finops_assets.domain.cost_forecast import (
    CostForecastError,
    ProviderForecast,
    compare_forecasts,
    forecast_period,
    parse_cost_forecast,
)
from finops_assets.resources.budgets import BudgetsResource
from finops_assets.resources.cost_forecast import (
    CostExplorerForecastResource,
    CostForecastResource,
)
from finops_assets.resources.lake import LakeResource
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets_tests.actuate.test_budget_events_delivery import BUDGETS, write_allocated
from finops_assets_tests.servers.cost_explorer import CostExplorerServer, Script

DAY = dt.date(2026, 10, 20)  # a Tuesday; the month has 11 days left after it
FORECAST = {
    "Total": {"Amount": "812.3456", "Unit": "USD"},
    "ForecastResultsByTime": [
        {
            "TimePeriod": {"Start": "2026-10-21", "End": "2026-11-01"},
            "MeanValue": "812.3456",
            "PredictionIntervalLowerBound": "700.1",
            "PredictionIntervalUpperBound": "900.2",
        }
    ],
}


def test_forecast_period_is_the_rest_of_the_month_from_today_only():
    assert forecast_period(DAY, DAY + dt.timedelta(days=1)) == (
        dt.date(2026, 10, 21),
        dt.date(2026, 11, 1),
    )
    assert forecast_period(DAY, DAY) == (dt.date(2026, 10, 21), dt.date(2026, 11, 1))
    assert forecast_period(DAY, DAY + dt.timedelta(days=2)) is None  # day 21 is past
    assert forecast_period(dt.date(2026, 10, 31), dt.date(2026, 11, 1)) is None
    assert forecast_period(dt.date(2026, 12, 30), dt.date(2026, 12, 31)) == (
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 1),
    )


def test_parse_cost_forecast_is_exact_and_names_what_is_missing():
    assert parse_cost_forecast(json.dumps(FORECAST).encode()) == ProviderForecast(
        Decimal("812.3456"), "USD"
    )
    for bad in (b"{}", b"not json", b'{"Total": {"Amount": "x", "Unit": "USD"}}'):
        with pytest.raises(CostForecastError, match="Total.Amount"):
            parse_cost_forecast(bad)


def _history(days: int, cost: str, provider: str = "aws") -> pl.DataFrame:
    rows = [
        {
            "x_charge_date": dt.date(2026, 10, 1) + dt.timedelta(days=n),
            "x_provider": provider,
            "x_effective_cost_base": Decimal(cost),
        }
        for n in range(days)
    ]
    return pl.DataFrame(rows, schema={k: ALLOCATED_COLUMNS[k] for k in rows[0]})


def test_compare_forecasts_adds_cost_explorer_to_our_actual():
    history = pl.concat([_history(20, "100"), _history(20, "55", provider="gcp")])
    shown = compare_forecasts(
        history, DAY, "USD", 2, ProviderForecast(Decimal("812.3456"), "USD"), "n"
    )
    assert shown["actual_mtd"] == "2000.00 USD"  # gcp rows are not AWS's
    assert shown["own_forecast_month_end"] == "3100.00 USD"  # + 11 days x 100
    assert shown["cost_explorer_remaining"] == "812.35 USD"
    assert shown["cost_explorer_forecast_month_end"] == "2812.35 USD"  # 2812.3456, rounded once
    assert shown["difference"] == "-287.65 USD"
    other = compare_forecasts(history, DAY, "EUR", 2, ProviderForecast(Decimal(1), "USD"), "n")
    assert other["difference"] == "" and "not EUR" in other["note"]


@pytest.fixture
def cost_explorer(monkeypatch):
    with CostExplorerServer(Script(forecast=FORECAST)) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_COST_EXPLORER", running.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("FINOPS_CE_MAX_ATTEMPTS", "2")
        monkeypatch.setenv("FINOPS_CE_BACKOFF_SECONDS", "0.001")
        yield running


def _materialize(tmp_path, monkeypatch, forecast: CostForecastResource):
    lake = LakeResource(lake_uri=str(tmp_path / "lake"), base_currency="USD")
    for n in range(20):
        write_allocated(lake, dt.date(2026, 10, 1) + dt.timedelta(days=n), "100")
    (tmp_path / "budgets.yaml").write_text(BUDGETS)
    monkeypatch.setattr(actuate_assets, "today", lambda: DAY + dt.timedelta(days=1))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [actuate_assets.budget_status],
            partition_key=DAY.isoformat(),
            instance=instance,
            resources={
                "lake": lake,
                "budgets": BudgetsResource(path=str(tmp_path / "budgets.yaml")),
                "cost_forecast": forecast,
            },
        )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("budget_status")
    status = lake.delta().read_day(tables.BUDGET_STATUS, DAY)
    return materialization.metadata["forecast_vs_cost_explorer"].value, status


@pytest.mark.slow
def test_budget_status_shows_cost_explorer_next_to_ours(tmp_path, monkeypatch, cost_explorer):
    shown, status = _materialize(tmp_path, monkeypatch, CostExplorerForecastResource())
    assert "| 2000.00 USD | 3100.00 USD | weekday_mean_28d | 812.35 USD | 2812.35 USD |" in shown
    assert "| -287.65 USD |" in shown
    ((operation, request),) = cost_explorer.requests
    assert operation == "GetCostForecast"
    assert request["TimePeriod"] == {"Start": "2026-10-21", "End": "2026-11-01"}
    assert request["Metric"] == "AMORTIZED_COST"
    assert status["forecast_month_end"].to_list() == [Decimal("3100.00")]  # ours decides


@pytest.mark.slow
def test_a_cost_explorer_outage_is_named_and_the_day_stands(tmp_path, monkeypatch, cost_explorer):
    cost_explorer.script.throttle_forever = True
    shown, status = _materialize(tmp_path, monkeypatch, CostExplorerForecastResource())
    assert "Cost Explorer forecast failed" in shown and "Throttling" in shown
    assert status.height == 1
    assert len(cost_explorer.requests) == 2  # FINOPS_CE_MAX_ATTEMPTS


@pytest.mark.slow
def test_without_cost_explorer_nothing_is_asked(tmp_path, monkeypatch, cost_explorer):
    shown, _ = _materialize(tmp_path, monkeypatch, CostForecastResource())
    assert "Cost Explorer not configured" in shown and "3100.00 USD" in shown
    assert cost_explorer.requests == []


def test_definitions_pick_the_twin_from_the_source_setting():
    api = Settings.from_env({"FINOPS_SOURCE_AWS_COST_EXPLORER": "api"})
    assert type(cost_forecast_for(api)) is CostExplorerForecastResource
    assert type(cost_forecast_for(Settings.from_env({}))) is CostForecastResource
