"""Pandera schemas built from the table contracts, plus the value checks each table adds."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from finops_assets.storage.contract import TableContract


@dataclass(frozen=True)
class ValidationOutcome:
    """Whether a frame passed, and a small table of the failures when it did not."""

    passed: bool
    failure_count: int
    failures: list[dict]


def contract_schema(
    contract: TableContract,
    checks: Mapping[str, Sequence[pa.Check]] | None = None,
    required: Sequence[str] = (),
    frame_checks: Sequence[pa.Check] = (),
) -> pa.DataFrameSchema:
    """A pandera schema: every contract column with its type, `required` ones non-null."""
    checks = checks or {}
    columns = {
        name: pa.Column(
            dtype,
            checks=list(checks.get(name, ())),
            nullable=name not in required and name not in contract.partition_by,
        )
        for name, dtype in contract.columns.items()
    }
    return pa.DataFrameSchema(columns, checks=list(frame_checks), strict=True, name=contract.name)


def validate_frame(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> ValidationOutcome:
    """Validate eagerly collecting every failure (lazy=True); never raises for data errors."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        rows = cases.head(20).select(
            [pl.col(c).cast(pl.Utf8) for c in ("column", "check", "failure_case", "index")]
        )
        return ValidationOutcome(False, cases.height, rows.to_dicts())
    return ValidationOutcome(True, 0, [])
