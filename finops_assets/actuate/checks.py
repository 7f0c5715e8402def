"""Pandera schemas for the actuation tables, checked before each day is written."""

import pandera.polars as pa

from finops_assets.domain.budgets import STATES
from finops_assets.domain.events import CROSSED, RESOLVED
from finops_assets.domain.kpis import ALLOCATION_METHODS
from finops_assets.storage import tables
from finops_assets.storage.validation import contract_schema

BUDGET_STATUS_SCHEMA = contract_schema(
    tables.BUDGET_STATUS,
    checks={
        "state": [pa.Check.isin(list(STATES))],
        "budget_amount": [pa.Check.gt(0)],
        "month": [pa.Check.str_matches(r"^\d{4}-\d{2}$")],
    },
    required=("budget_id", "actual_mtd", "forecast_month_end", "state", "budget_amount"),
)
BUDGET_EVENTS_SCHEMA = contract_schema(
    tables.BUDGET_EVENTS,
    checks={"type": [pa.Check.isin([CROSSED, RESOLVED])]},
    required=("event_id", "type", "subject", "time", "data_json"),
)
FINOPS_KPIS_SCHEMA = contract_schema(
    tables.FINOPS_KPIS,
    checks={"method": [pa.Check.isin([*ALLOCATION_METHODS, "unknown"])]},
    required=("method", "cost_base"),
)
RIGHTSIZING_SCHEMA = contract_schema(
    tables.RIGHTSIZING_RECOMMENDATIONS,
    checks={
        "estimated_monthly_savings": [pa.Check.gt(0)],
        "cpu_p95_max": [pa.Check.in_range(0, 100)],
        "days_observed": [pa.Check.ge(1)],
    },
    required=("resource_id", "current_size", "recommended_size", "estimated_monthly_savings"),
)
COMMITMENTS_SCHEMA = contract_schema(
    tables.COMMITMENT_RECOMMENDATIONS,
    checks={
        "estimated_monthly_savings": [pa.Check.gt(0)],
        "expected_coverage": [pa.Check.in_range(0, 1)],
        "expected_utilization": [pa.Check.in_range(0, 1)],
        "break_even_month": [pa.Check.ge(1)],
    },
    required=("x_provider", "commitment_type", "term_months", "hourly_commitment"),
)
COST_ANOMALIES_SCHEMA = contract_schema(
    tables.COST_ANOMALIES,
    checks={"direction": [pa.Check.isin(["spike", "drop"])], "history_days": [pa.Check.ge(1)]},
    required=("x_business_unit", "ServiceName", "BillingCurrency", "actual", "event_id"),
)
KPI_VALUES_SCHEMA = contract_schema(
    tables.FINOPS_KPI_VALUES,
    checks={"unit": [pa.Check.str_length(min_value=1)]},
    required=("kpi", "scope", "value", "unit"),
)
