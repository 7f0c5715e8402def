"""The Delta layer on real tables in a temp folder: day overwrite, contract errors, scoping."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.money import MONEY
from finops_assets.storage.contract import ContractError, TableContract
from finops_assets.storage.delta import DayOutOfRangeError, DeltaLake

CONTRACT = TableContract(
    name="costs",
    columns={"x_charge_date": pl.Date(), "x_source": pl.Utf8(), "cost": MONEY},
    partition_by=("x_charge_date", "x_source"),
)
DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)


def frame(day: dt.date, source: str, *costs: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "x_charge_date": [day] * len(costs),
            "x_source": [source] * len(costs),
            "cost": [Decimal(c) for c in costs],
        },
        schema=CONTRACT.schema,
    )


def test_write_day_replaces_only_that_day(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, frame(DAY1, "a", "1.10", "2.20"), DAY1)
    lake.write_day(CONTRACT, frame(DAY2, "a", "5"), DAY2)
    lake.write_day(CONTRACT, frame(DAY1, "a", "3.30"), DAY1)
    assert lake.read_day(CONTRACT, DAY1)["cost"].to_list() == [Decimal("3.3")]
    assert lake.read_day(CONTRACT, DAY2)["cost"].to_list() == [Decimal("5")]


def test_rewriting_a_day_is_idempotent(tmp_path):
    lake = DeltaLake(str(tmp_path))
    data = frame(DAY1, "a", "1.0000000001", "-0.5")
    lake.write_day(CONTRACT, data, DAY1)
    first = lake.read_day(CONTRACT, DAY1).sort("cost")
    lake.write_day(CONTRACT, data, DAY1)
    assert_frame_equal(first, lake.read_day(CONTRACT, DAY1).sort("cost"))
    assert lake.scan(CONTRACT).collect().height == 2


def test_rows_of_another_day_are_refused_and_nothing_is_written(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, frame(DAY1, "a", "1"), DAY1)
    version = lake.version(CONTRACT)
    with pytest.raises(DayOutOfRangeError, match="2026-10-02"):
        lake.write_day(CONTRACT, pl.concat([frame(DAY1, "a", "9"), frame(DAY2, "a", "9")]), DAY1)
    assert lake.version(CONTRACT) == version
    assert lake.read_day(CONTRACT, DAY1)["cost"].to_list() == [Decimal("1")]


def test_columns_outside_the_contract_are_refused(tmp_path):
    lake = DeltaLake(str(tmp_path))
    with pytest.raises(ContractError, match=r"outside the contract \['surprise'\]"):
        lake.write_day(CONTRACT, frame(DAY1, "a", "1").with_columns(surprise=pl.lit(1)), DAY1)
    with pytest.raises(ContractError, match=r"missing columns \['cost'\]"):
        lake.write_day(CONTRACT, frame(DAY1, "a", "1").drop("cost"), DAY1)
    assert not lake.exists(CONTRACT)


def test_float_money_is_refused(tmp_path):
    lake = DeltaLake(str(tmp_path))
    floats = frame(DAY1, "a", "1").with_columns(pl.col("cost").cast(pl.Float64))
    with pytest.raises(ContractError, match="cost: Float64"):
        lake.write_day(CONTRACT, floats, DAY1)


def test_scope_replaces_one_writer_share_of_a_shared_table(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, frame(DAY1, "a", "1"), DAY1, scope={"x_source": "a"})
    lake.write_day(CONTRACT, frame(DAY1, "b", "2"), DAY1, scope={"x_source": "b"})
    lake.write_day(CONTRACT, frame(DAY1, "a", "3"), DAY1, scope={"x_source": "a"})
    got = lake.read_day(CONTRACT, DAY1).sort("x_source")
    assert got["cost"].to_list() == [Decimal("3"), Decimal("2")]
    with pytest.raises(ContractError, match="outside the scope"):
        lake.write_day(CONTRACT, frame(DAY1, "b", "2"), DAY1, scope={"x_source": "a"})


def test_empty_frame_clears_the_day(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(CONTRACT, frame(DAY1, "a", "1"), DAY1)
    lake.write_day(CONTRACT, CONTRACT.empty_frame(), DAY1)
    assert lake.read_day(CONTRACT, DAY1).is_empty()


def test_reading_a_table_that_does_not_exist_gives_the_contract_schema(tmp_path):
    got = DeltaLake(str(tmp_path)).read_day(CONTRACT, DAY1)
    assert got.is_empty() and got.schema == CONTRACT.schema


def test_time_travel_reads_an_earlier_version(tmp_path):
    lake = DeltaLake(str(tmp_path))
    first = lake.write_day(CONTRACT, frame(DAY1, "a", "1"), DAY1)
    lake.write_day(CONTRACT, frame(DAY1, "a", "2"), DAY1)
    assert lake.read_day(CONTRACT, DAY1, version=first)["cost"].to_list() == [Decimal("1")]
