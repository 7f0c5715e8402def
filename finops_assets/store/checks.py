"""Pandera schema for the finance-facing report table."""

import pandera.polars as pa

from finops_assets.storage import tables
from finops_assets.storage.validation import contract_schema

COST_BY_BUSINESS_UNIT_SCHEMA = contract_schema(
    tables.COST_BY_BUSINESS_UNIT,
    checks={
        "x_source_rows": [pa.Check.ge(1)],
        "x_base_currency": [pa.Check.str_matches(r"^[A-Z]{3}$")],
    },
    required=("x_billed_cost_base", "x_effective_cost_base", "ChargeCategory", "x_base_currency"),
)
