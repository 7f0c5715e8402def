"""Driver files the customer drops in landing/drivers/<name>/: parsed, validated, bad rows kept."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from finops_assets.domain.driver_files import parse_driver_file
from finops_assets.domain.sources.common import SourceFormatError

DAY = dt.date(2026, 10, 2)
GOOD = b"day,key,measure,quantity\n2026-10-02,payments,seats,12\n2026-10-02,search,seats,0.5\n"


def test_a_day_file_gives_typed_rows_with_file_and_line() -> None:
    parsed = parse_driver_file(GOOD, "drivers/support/2026-10-02.csv", DAY)
    assert parsed.quarantine.is_empty()
    assert parsed.rows.to_dicts() == [
        {
            "x_charge_date": DAY,
            "x_driver": "support",
            "key": "payments",
            "measure": "seats",
            "quantity": Decimal("12"),
            "x_source_file": "drivers/support/2026-10-02.csv",
            "x_source_line": 2,
        },
        {
            "x_charge_date": DAY,
            "x_driver": "support",
            "key": "search",
            "measure": "seats",
            "quantity": Decimal("0.5"),
            "x_source_file": "drivers/support/2026-10-02.csv",
            "x_source_line": 3,
        },
    ]


def test_a_period_file_gives_the_partition_days_rows_only() -> None:
    data = GOOD + b"2026-10-03,payments,seats,7\n"
    parsed = parse_driver_file(data, "drivers/support/2026-10.csv", dt.date(2026, 10, 3))
    assert parsed.rows["quantity"].to_list() == [Decimal(7)]
    assert parsed.rows["x_source_line"].to_list() == [4]
    assert parsed.quarantine.is_empty()


def test_bad_rows_are_quarantined_with_file_line_column_and_reason() -> None:
    data = GOOD + (
        b"2026-10-02,ml,seats,abc\n"  # line 4: not a number
        b"2026-10-02,ml,seats,-3\n"  # line 5: negative
        b"2026-13-02,ml,seats,1\n"  # line 6: not a date
        b"2026-10-02,,seats,1\n"  # line 7: no key
        b"2026-10-05,ml,seats,1\n"  # line 8: another day in a day file
        b"2026-10-02,payments,seats,3\n"  # line 9: a second quantity for one key and measure
    )
    path = "drivers/support/2026-10-02.csv"
    parsed = parse_driver_file(data, path, DAY)
    assert parsed.rows["x_source_line"].to_list() == [2, 3]
    found = {
        r["x_source_line"]: (r["x_column"], r["x_reason"]) for r in parsed.quarantine.to_dicts()
    }
    assert sorted(found) == [4, 5, 6, 7, 8, 9]
    assert found[4][0] == "quantity" and "'abc'" in found[4][1]
    assert found[5][0] == "quantity" and "negative" in found[5][1]
    assert found[6][0] == "day" and "'2026-13-02'" in found[6][1]
    assert found[7][0] == "key" and "empty" in found[7][1]
    assert found[8][0] == "day" and "2026-10-05" in found[8][1] and path in found[8][1]
    assert found[9][0] == "key" and "line 2" in found[9][1]
    row = parsed.quarantine.filter(parsed.quarantine["x_source_line"] == 4).row(0, named=True)
    assert row["x_source"] == "allocation_drivers"
    assert row["x_source_file"] == path
    assert row["x_charge_date"] == DAY
    assert json.loads(row["x_raw_record"])["quantity"] == "abc"


def test_a_file_without_the_columns_is_refused_naming_file_and_columns() -> None:
    with pytest.raises(SourceFormatError, match=r"2026-10-02.csv.*quantity"):
        parse_driver_file(b"day,key,measure\n2026-10-02,a,b\n", "drivers/x/2026-10-02.csv", DAY)


def test_a_file_named_neither_day_nor_period_is_refused() -> None:
    with pytest.raises(SourceFormatError, match="YYYY-MM-DD.csv or YYYY-MM.csv"):
        parse_driver_file(GOOD, "drivers/support/latest.csv", DAY)
