"""The provider's own spend forecast, for budget_status to show next to ours.

Two twins, chosen in definitions.py: `CostForecastResource` (embedded default, and wherever
Cost Explorer is not configured) answers nothing; `CostExplorerForecastResource` asks AWS Cost
Explorer's GetCostForecast through boto3 (FINOPS_SOURCE_AWS_COST_EXPLORER=api). Both are
built at run time: no network call while definitions load.
"""

import datetime as dt

from dagster import ConfigurableResource

from finops_assets.domain.cost_forecast import ProviderForecast, parse_cost_forecast
from finops_assets.settings import Settings


class CostForecastResource(ConfigurableResource):
    """No provider forecast: Cost Explorer is not configured here."""

    def configured(self) -> str:
        """Where the forecast comes from, or why there is none (shown in metadata)."""
        return "Cost Explorer not configured (FINOPS_SOURCE_AWS_COST_EXPLORER=api enables it)"

    def rest_of_month(self, start: dt.date, end: dt.date) -> ProviderForecast | None:
        """The provider's forecast of [start, end); None when there is no provider forecast."""
        return None


class CostExplorerForecastResource(CostForecastResource):
    """AWS GetCostForecast, metric AMORTIZED_COST (the basis of our effective cost)."""

    metric: str = "AMORTIZED_COST"

    def configured(self) -> str:
        return f"Cost Explorer GetCostForecast ({self.metric})"

    def rest_of_month(self, start: dt.date, end: dt.date) -> ProviderForecast | None:
        from finops_assets.resources.aws_cost_explorer_api import (
            CostExplorerApi,
            CostExplorerOptions,
            cost_explorer_client,
        )

        options = CostExplorerOptions.from_env(Settings.from_env().api_options)
        api = CostExplorerApi(cost_explorer_client(), options)
        return parse_cost_forecast(api.fetch_forecast(start, end, self.metric).data)
