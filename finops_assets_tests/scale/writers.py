"""A writer process for the concurrency test: one day of one table, started at a barrier."""

import datetime as dt
from decimal import Decimal

import polars as pl

from finops_assets.domain.money import MONEY
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake

CONTRACT = TableContract(
    name="concurrent_days",
    columns={
        "x_charge_date": pl.Date(),
        "x_round": pl.Int64(),
        "line": pl.Int64(),
        "BilledCost": MONEY,
    },
)
ROWS = 500


def day_frame(day: dt.date, round_number: int) -> pl.DataFrame:
    """ROWS rows of `day`, money as Decimal, tagged with the round that wrote them."""
    return pl.DataFrame(
        {
            "x_charge_date": [day] * ROWS,
            "x_round": [round_number] * ROWS,
            "line": list(range(ROWS)),
            "BilledCost": [Decimal(f"{n}.0123456789") for n in range(ROWS)],
        },
        schema=CONTRACT.schema,
    )


def write_day_at_barrier(lake_uri, options, day, round_number, barrier, errors) -> None:  # type: ignore[no-untyped-def]
    """Wait for the other writer, then replace `day` in the shared table."""
    lake = DeltaLake(lake_uri, options)
    barrier.wait(timeout=60)
    try:
        lake.write_day(CONTRACT, day_frame(day, round_number), day)
    except Exception as error:  # reported to the parent, which fails the test with it
        errors.put(f"{day}: {type(error).__name__}: {error}")
