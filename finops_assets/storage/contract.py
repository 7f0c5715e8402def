"""A Delta table declared once: its columns and types, and how it is partitioned."""

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

DAY_COLUMN = "x_charge_date"


class ContractError(ValueError):
    """A frame does not match the table contract it is written to."""


@dataclass(frozen=True)
class TableContract:
    """Name, ordered columns with types, and partition columns of one Delta table."""

    name: str
    columns: Mapping[str, pl.DataType]
    partition_by: tuple[str, ...] = (DAY_COLUMN,)
    day_column: str | None = DAY_COLUMN
    description: str = ""

    def __post_init__(self) -> None:
        missing = [c for c in self.partition_by if c not in self.columns]
        if missing:
            raise ContractError(f"{self.name}: partition columns {missing} are not in the contract")
        if self.day_column and self.day_column not in self.columns:
            raise ContractError(f"{self.name}: day column {self.day_column} is not in the contract")

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema(dict(self.columns))

    def empty_frame(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Check a frame against the contract and return it with the contract's column order.

        Missing or extra columns, and types that differ, are refused with a message naming them.
        Null-typed columns (all-null literals) are cast to the contract type.
        """
        extra = [c for c in frame.columns if c not in self.columns]
        missing = [c for c in self.columns if c not in frame.columns]
        if extra or missing:
            raise ContractError(
                f"table {self.name}: columns outside the contract {extra}, missing columns {missing}"
            )
        casts = []
        wrong = []
        for name, dtype in self.columns.items():
            actual = frame.schema[name]
            if actual == dtype:
                continue
            if actual == pl.Null:
                casts.append(pl.col(name).cast(dtype))
            else:
                wrong.append(f"{name}: {actual} (contract {dtype})")
        if wrong:
            raise ContractError(f"table {self.name}: wrong column types: {'; '.join(wrong)}")
        if casts:
            frame = frame.with_columns(casts)
        return frame.select(list(self.columns))
