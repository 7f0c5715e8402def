"""Additive schema evolution: a raw table written before a new contract column takes new days."""

import datetime as dt
from decimal import Decimal

import deltalake.exceptions
import polars as pl
import pytest

from finops_assets.domain.money import MONEY
from finops_assets.domain.sources import aws_cur
from finops_assets.sample import aws_cur_writer
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DeltaLake
from finops_assets.storage.tables import raw_contract

BASE = {"x_charge_date": pl.Date(), "cost": MONEY}
OLD = TableContract(name="costs", columns=BASE)
NEW = TableContract(name="costs", columns={**BASE, "x_extra_columns": pl.Utf8()})
DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
FETCHED = dt.datetime(2026, 10, 3, tzinfo=dt.UTC)


def old_frame(day: dt.date, cost: str) -> pl.DataFrame:
    return pl.DataFrame({"x_charge_date": [day], "cost": [Decimal(cost)]}, schema=OLD.schema)


def new_frame(day: dt.date, cost: str, extra: str | None) -> pl.DataFrame:
    data = {"x_charge_date": [day], "cost": [Decimal(cost)], "x_extra_columns": [extra]}
    return pl.DataFrame(data, schema=NEW.schema)


def test_a_day_with_a_new_column_lands_in_a_table_written_without_it(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(OLD, old_frame(DAY1, "1.5"), DAY1)
    lake.write_day(OLD, old_frame(DAY2, "2"), DAY2)
    before = lake.version(OLD)
    extra = '{"x_custom_team":"payments"}'
    assert lake.write_day(NEW, new_frame(DAY2, "3.25", extra), DAY2) == (before or 0) + 1
    day2 = lake.read_day(NEW, DAY2)
    assert day2.rows() == [(DAY2, Decimal("3.25"), extra)]
    assert lake.read_day(NEW, DAY1).rows() == [(DAY1, Decimal("1.5"), None)]
    # the version before the evolution reads through the new contract too (column as null)
    assert lake.read_day(NEW, DAY2, version=before).rows() == [(DAY2, Decimal("2"), None)]
    lake.write_day(NEW, new_frame(DAY1, "1.5", None), DAY1)  # later writes are plain again
    assert lake.read_all(NEW).sort("x_charge_date")["cost"].to_list() == [
        Decimal("1.5"),
        Decimal("3.25"),
    ]


def test_a_dropped_column_still_fails_and_writes_nothing(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.write_day(NEW, new_frame(DAY1, "1", "{}"), DAY1)
    version = lake.version(NEW)
    with pytest.raises(deltalake.exceptions.SchemaMismatchError):
        lake.write_day(OLD, old_frame(DAY1, "9"), DAY1)
    assert lake.version(NEW) == version
    assert lake.read_day(NEW, DAY1).rows() == [(DAY1, Decimal("1"), "{}")]


def test_cur_raw_table_from_before_x_extra_columns_takes_a_reingested_day(tmp_path):
    """The real aws_cur_raw contract: a day written by the old code, re-ingested by the new."""
    paths = aws_cur_writer.write_day(tmp_path / "landing", DAY1, seed=7, rows_per_day=50)
    parsed = pl.concat(
        aws_cur.parse(
            p.read_bytes(), source_file=p.name, ingestion_key="k", fetched_at=FETCHED
        ).rows
        for p in paths
    )
    new = raw_contract(aws_cur)
    old_columns = {c: t for c, t in new.columns.items() if c != "x_extra_columns"}
    old = TableContract(name=new.name, columns=old_columns)
    lake = DeltaLake(str(tmp_path / "lake"))
    lake.write_day(old, parsed.drop("x_extra_columns"), DAY1)
    lake.write_day(new, parsed, DAY1)
    again = lake.read_day(new, DAY1)
    assert again.height == parsed.height
    assert again["x_extra_columns"].null_count() == 0
    assert aws_cur.billed_totals(again).equals(aws_cur.billed_totals(parsed))
