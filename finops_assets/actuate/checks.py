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
