"""One day of focus_export made in slices of rows (bounded working memory).

A FOCUS 1.2 and a FOCUS 1.3 row depend only on their normalized row, and every check of the 1.3
contract (FOCUS13_SCHEMA) judges one row at a time. So the day is cut into slices of rows, each
made into both datasets' rows and checked on its own: the slices, concatenated, are the whole
day's rows in its order, and ContractCases gathers the contract's failure cases as pandera
lists them for the whole day (row indexes counted over the day, in the schema's check order).
Only one slice's rows and pandera frames are alive at a time, not the whole day's.
"""

from collections.abc import Iterator

import pandera.polars as pa
import polars as pl

from finops_assets.domain.focus import NORMALIZED_COLUMNS
from finops_assets.domain.focus_versions import (
    FOCUS13_COLUMNS,
    FOCUS13_SCHEMA,
    X_COLUMNS,
    focus12_rows,
    focus13_rows,
)

SLICE_ROWS = 100_000  # normalized rows per slice
# the normalized columns both datasets are made of (every one today), in the table's order
EXPORT_READ = tuple(
    c
    for c in NORMALIZED_COLUMNS
    if c in FOCUS13_COLUMNS or c in X_COLUMNS or c in ("ProviderName", "PublisherName")
)
SHOWN_CASES = 20  # failure cases a check result lists (storage.validation.validate_frame's)
_CASE = ("column", "check", "failure_case", "index")
_IDENTITY = ("schema_context", "column", "check", "check_number")
_COLUMNS = {name: i for i, name in enumerate(FOCUS13_SCHEMA.columns)}
_BUILT_IN = {"not_nullable": 0, "field_uniqueness": 1}  # then the dtype, then the checks
_ORDER = ("_stage", "_column", "_step")


def export_slices(
    normalized: pl.DataFrame, slice_rows: int | None = None
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """The day's FOCUS 1.2 and 1.3 rows slice by slice, each with its 1.3 contract's failure
    cases (contract_cases). An empty day gives one empty slice (the datasets' columns). Only
    one slice is alive at a time if the caller lets the previous one go."""
    size = max(slice_rows or SLICE_ROWS, 1)
    for offset in range(0, max(normalized.height, 1), size):
        rows = normalized.slice(offset, size)
        v12, v13 = focus12_rows(rows), focus13_rows(rows)
        del rows
        cases = contract_cases(v13, offset)
        yield v12, v13, cases
        del v12, v13, cases  # let the caller's slice go before the next is made


def contract_cases(v13: pl.DataFrame, offset: int = 0) -> pl.DataFrame:
    """Every failure case of the 1.3 contract on `v13` (a slice starting at row `offset` of the
    day), as pandera lists them, row indexes counted over the day, with their order (_ORDER) in the
    schema's checks. Empty when the slice holds its contract."""
    try:
        FOCUS13_SCHEMA.validate(v13, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.select(*_IDENTITY, pl.col(_CASE[2]), pl.col("index"))
        return cases.with_columns(
            pl.col("failure_case").cast(pl.Utf8),
            (pl.col("index").cast(pl.Int64) + offset).alias("index"),
            *_order(),
        )
    return pl.DataFrame(
        schema={
            **{name: pl.Utf8 for name in _IDENTITY[:3]},
            "check_number": pl.Int32,
            "failure_case": pl.Utf8,
            "index": pl.Int64,
            **{name: pl.Int64 for name in _ORDER},
        }
    )


def _order() -> list[pl.Expr]:
    """Where pandera runs a case's check: the columns' checks (null, unique, dtype, then its
    own, in schema order), then the frame's checks; column presence comes before all."""
    column = pl.col("column").replace_strict(_COLUMNS, default=-1, return_dtype=pl.Int64)
    check = pl.col("check")
    step = (
        pl.when(check.is_in(list(_BUILT_IN)))
        .then(check.replace_strict(_BUILT_IN, default=0, return_dtype=pl.Int64))
        .when(pl.col("check_number").is_null())
        .then(pl.lit(2, pl.Int64))  # the dtype check
        .otherwise(pl.col("check_number").cast(pl.Int64) + 3)
    )
    of_column = pl.col("schema_context") == "Column"
    stage = (
        pl.when(of_column)
        .then(pl.lit(1, pl.Int64))
        .when(pl.col("check_number").is_not_null())
        .then(pl.lit(2, pl.Int64))
        .otherwise(pl.lit(0, pl.Int64))
    )
    return [
        stage.alias("_stage"),
        pl.when(of_column).then(column).otherwise(pl.lit(0, pl.Int64)).alias("_column"),
        pl.when(stage > 0).then(step).otherwise(pl.lit(0, pl.Int64)).alias("_step"),
    ]


class ContractCases:
    """The 1.3 contract's failures on a whole day, gathered slice by slice (in row order): the
    count and the first SHOWN_CASES cases as validate_frame gives them on the whole day. Keeps
    at most SHOWN_CASES cases of each check; a case of no row (a column's type) counts once."""

    def __init__(self) -> None:
        self.count = 0
        self._kept: pl.DataFrame | None = None

    def add(self, cases: pl.DataFrame) -> None:
        """Fold one slice's contract_cases in (slices in the day's row order)."""
        if cases.is_empty():
            return
        kept = cases if self._kept is None else pl.concat([self._kept, cases])
        rowless = kept.filter(pl.col("index").is_null())
        unique = rowless.unique(subset=[*_IDENTITY, "failure_case"], maintain_order=True)
        self.count += cases.height - (rowless.height - unique.height)
        first = pl.int_range(pl.len()).over(_IDENTITY) < SHOWN_CASES
        self._kept = pl.concat([kept.filter(pl.col("index").is_not_null()), unique]).filter(first)

    def outcome(self) -> tuple[int, list[dict]]:
        """(failure count, the cases listed) of the whole day, as validate_frame's."""
        if self._kept is None:
            return 0, []
        shown = self._kept.with_row_index("_seen").sort(*_ORDER, "_seen").head(SHOWN_CASES)
        return self.count, shown.select(pl.col(c).cast(pl.Utf8) for c in _CASE).to_dicts()
