"""The chaos table's arithmetic: a shortfall is money lost, an excess money duplicated."""

import datetime as dt
from decimal import Decimal

from finops_assets_tests.chaos.money import describe, lost_and_duplicated

DAY = dt.date(2026, 10, 1)


def test_shortfall_and_excess_per_currency() -> None:
    truth = {(DAY, "USD"): Decimal("100.25"), (DAY, "EUR"): Decimal("5")}
    observed = {(DAY, "USD"): Decimal("90.25"), (DAY, "EUR"): Decimal("5.0000000001")}
    lost, duplicated = lost_and_duplicated(truth, observed)
    assert describe(lost) == "USD 10"
    assert describe(duplicated) == "EUR 0.0000000001"


def test_a_missing_day_is_lost_and_an_extra_one_duplicated() -> None:
    other = DAY + dt.timedelta(days=1)
    lost, duplicated = lost_and_duplicated(
        {(DAY, "USD"): Decimal("3")}, {(other, "USD"): Decimal("3")}
    )
    assert (describe(lost), describe(duplicated)) == ("USD 3", "USD 3")
    assert describe({}) == "0"
