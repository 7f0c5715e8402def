"""An existing normalized_costs lake, written before the FOCUS 1.1-1.4 model columns, keeps working.

Real Delta table in tmp: a day written with the old contract (no FOCUS_LATER_COLUMNS), then the
next day with today's contract; both days read back, the old one with the new columns null and
the FOCUS 1.3 dataset still deriving its entities for the old rows.
"""

import dataclasses
import datetime as dt
from decimal import Decimal

import polars as pl

from finops_assets.domain.focus import FOCUS_LATER_COLUMNS, NORMALIZED_COLUMNS
from finops_assets.domain.focus_versions import focus13_rows
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

OLD_COLUMNS = {c: t for c, t in NORMALIZED_COLUMNS.items() if c not in FOCUS_LATER_COLUMNS}


def _rows(day: dt.date, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    values = {
        "x_charge_date": day,
        "ChargePeriodStart": start,
        "ChargePeriodEnd": start + dt.timedelta(days=1),
        "BilledCost": Decimal("1.25"),
        "BillingCurrency": "EUR",
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "x_provider": "aws",
        "x_source_row_key": f"k-{day}",
        "ServiceProviderName": "AWS",
        "HostProviderName": "AWS",
    }
    frame = pl.DataFrame({c: [values.get(c)] for c in columns})
    return frame.select([pl.col(c).cast(t) for c, t in columns.items()])


def test_an_old_lake_gains_the_columns_additively(tmp_path):
    lake = DeltaLake(str(tmp_path / "lake"))
    old_contract = dataclasses.replace(tables.NORMALIZED_COSTS, columns=OLD_COLUMNS)
    first, second = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
    lake.write_day(old_contract, _rows(first, OLD_COLUMNS), first)
    lake.write_day(tables.NORMALIZED_COSTS, _rows(second, NORMALIZED_COLUMNS), second)
    both = lake.read_days(tables.NORMALIZED_COSTS, [first, second]).sort("x_charge_date")
    assert both.schema == pl.Schema(NORMALIZED_COLUMNS)
    assert both["BilledCost"].sum() == Decimal("2.50")
    assert both["HostProviderName"].to_list() == [None, "AWS"]
    assert focus13_rows(both)["HostProviderName"].to_list() == ["AWS", "AWS"]
    assert focus13_rows(both)["ServiceProviderName"].to_list() == ["AWS", "AWS"]
