"""The actuate stage's definitions."""

import dagster as dg

from finops_assets.actuate.anomalies import cost_anomalies
from finops_assets.actuate.assets import budget_events, budget_status
from finops_assets.actuate.kpi_assets import finops_kpis
from finops_assets.actuate.recommendations import (
    commitment_recommendations,
    rightsizing_recommendations,
)
from finops_assets.resources.budgets import BudgetsResource

defs = dg.Definitions(
    assets=[
        budget_status,
        budget_events,
        finops_kpis,
        rightsizing_recommendations,
        commitment_recommendations,
        cost_anomalies,
    ],
    resources={"budgets": BudgetsResource()},
)
