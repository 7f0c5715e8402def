"""append_day: a ledger's commit adds rows and rewrites nothing, on new and older tables."""

import datetime as dt
from decimal import Decimal

import deltalake
import polars as pl
import pytest

from finops_assets.domain.audit import AUDIT_COLUMNS
from finops_assets.domain.money import MONEY
from finops_assets.storage import tables
from finops_assets.storage.contract import TableContract
from finops_assets.storage.delta import DayOutOfRangeError, DeltaLake

LEDGER = TableContract(name="ledger", columns={"x_charge_date": pl.Date(), "amount": MONEY})
DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)


def rows(day: dt.date, *amounts: str) -> pl.DataFrame:
    data = {"x_charge_date": [day] * len(amounts), "amount": [Decimal(a) for a in amounts]}
    return pl.DataFrame(data, schema=LEDGER.schema)


def test_append_adds_rows_and_keeps_every_earlier_row(tmp_path):
    lake = DeltaLake(str(tmp_path))
    assert lake.append_day(LEDGER, rows(DAY1, "1"), DAY1) == 0
    assert lake.append_day(LEDGER, rows(DAY1, "2", "3"), DAY1) == 1
    assert lake.append_day(LEDGER, rows(DAY2, "4"), DAY2) == 2
    assert sorted(lake.read_day(LEDGER, DAY1)["amount"].to_list()) == [1, 2, 3]
    assert lake.read_day(LEDGER, DAY1, version=0)["amount"].to_list() == [Decimal(1)]
    # An append is an "add" in the log: no file of an earlier version was removed.
    history = deltalake.DeltaTable(lake.table_uri(LEDGER)).history()
    assert {h["operation"] for h in history} <= {"CREATE TABLE", "WRITE"}
    assert all(h.get("operationParameters", {}).get("mode") != "Overwrite" for h in history)


def test_append_refuses_rows_of_another_day_and_writes_nothing(tmp_path):
    lake = DeltaLake(str(tmp_path))
    lake.append_day(LEDGER, rows(DAY1, "1"), DAY1)
    with pytest.raises(DayOutOfRangeError):
        lake.append_day(LEDGER, pl.concat([rows(DAY1, "2"), rows(DAY2, "3")]), DAY1)
    assert lake.version(LEDGER) == 0


def test_a_pre_ledger_audit_table_takes_ledger_entries(tmp_path):
    """allocation_audit written before the ledger columns existed gains them as nulls."""
    lake = DeltaLake(str(tmp_path))
    old_columns = dict(list(AUDIT_COLUMNS.items())[:14])
    old = TableContract(
        name="allocation_audit",
        columns=old_columns,
        partition_by=tables.ALLOCATION_AUDIT.partition_by,
    )
    zero = Decimal(0)
    legacy = {c: [None] for c in old_columns} | {
        "x_charge_date": [DAY1],
        "x_business_unit": ["search"],
        "x_base_currency": ["USD"],
        "billed_cost_after": [Decimal(5)],
        "billed_cost_before": [zero],
        "billed_cost_delta": [Decimal(5)],
    }
    lake.write_day(old, pl.DataFrame(legacy, schema=old.schema), DAY1)
    entry = pl.DataFrame(
        {c: [None] for c in AUDIT_COLUMNS}
        | {"x_charge_date": [DAY1], "x_business_unit": ["search"], "x_sequence": [1]},
        schema=tables.ALLOCATION_AUDIT.schema,
    )
    lake.append_day(tables.ALLOCATION_AUDIT, entry, DAY1)
    both = lake.read_day(tables.ALLOCATION_AUDIT, DAY1).sort("x_sequence", nulls_last=False)
    assert both["x_sequence"].to_list() == [None, 1]
    assert both["billed_cost_after"].to_list() == [Decimal(5), None]
