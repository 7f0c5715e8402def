"""The actuate stage's definitions."""

import dagster as dg

from finops_assets.actuate.assets import budget_events, budget_status, finops_kpis
from finops_assets.resources.budgets import BudgetsResource

defs = dg.Definitions(
    assets=[budget_status, budget_events, finops_kpis],
    resources={"budgets": BudgetsResource()},
)
