"""Checks on allocated_costs: the contract, and exact conservation against normalized_costs."""

import pandera.polars as pa
import polars as pl

from finops_assets.domain.allocate_conservation import conservation_violations
from finops_assets.storage import tables
from finops_assets.storage.validation import ValidationOutcome, contract_schema, validate_frame

ALLOCATED_SCHEMA = contract_schema(
    tables.ALLOCATED_COSTS,
    checks={
        "x_allocation_method": [pa.Check.isin(["tag", "hierarchy", "proportional", "unallocated"])],
    },
    required=(
        "x_business_unit",
        "x_source_row_key",
        "x_allocation_method",
        "BilledCost",
        "x_billed_cost_base",
        "x_allocation_rule_version",
    ),
)


def allocated_contract_result(allocated: pl.DataFrame) -> ValidationOutcome:
    """check_allocated_contract: columns, types, a method and rule version on every row."""
    return validate_frame(ALLOCATED_SCHEMA, allocated)


def conservation_result(normalized: pl.DataFrame, allocated: pl.DataFrame) -> ValidationOutcome:
    """check_allocation_conserved: per day, currency and charge category, allocated == normalized."""
    return conservation_outcome(conservation_violations(normalized, allocated))


def conservation_outcome(violations: pl.DataFrame) -> ValidationOutcome:
    """The check's outcome from allocate_conservation's violations (whole day or summed chunks)."""
    return ValidationOutcome(
        violations.is_empty(),
        violations.height,
        [{k: str(v) for k, v in r.items()} for r in violations.head(20).to_dicts()],
    )
