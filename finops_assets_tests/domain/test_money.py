"""Money helpers against Python's decimal reference."""

import random
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest

from finops_assets.domain.money import (
    MONEY,
    multiply_exact_expr,
    parse_money_expr,
    split_largest_remainder,
)


def test_parse_money_rounds_half_up_and_nulls_garbage():
    texts = ["1.5", " 2.25 ", "0.00000000005", "-0.00000000005", "1e-3", "abc", "", None]
    got = pl.DataFrame({"t": texts}).select(parse_money_expr("t"))["t"].to_list()
    assert got[:5] == [
        Decimal("1.5"),
        Decimal("2.25"),
        Decimal("1E-10"),
        Decimal("-1E-10"),
        Decimal("0.001"),
    ]
    assert got[5:] == [None, None, None]


def test_multiply_exact_matches_python_decimal_reference():
    rng = random.Random(7)
    amounts = [Decimal(rng.randint(-(10**14), 10**14)) / Decimal(10**10) for _ in range(20_000)]
    rates = [Decimal(rng.randint(1, 10**13)) / Decimal(10**10) for _ in range(20_000)]
    frame = pl.DataFrame({"a": amounts, "r": rates}, schema={"a": MONEY, "r": MONEY})
    got = frame.select(multiply_exact_expr(pl.col("a"), pl.col("r"), 2))["a"].to_list()
    expected = [
        (a * r).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        for a, r in zip(amounts, rates, strict=True)
    ]
    assert got == expected


@pytest.mark.parametrize("total", ["100.00", "-0.05", "0.01", "33.33"])
def test_largest_remainder_conserves_exactly(total):
    weights = [Decimal(1), Decimal(1), Decimal(1)]
    parts = split_largest_remainder(Decimal(total), weights, 2)
    assert sum(parts) == Decimal(total)
    assert max(parts) - min(parts) <= Decimal("0.01")


def test_largest_remainder_ties_go_to_the_earliest_weight():
    assert split_largest_remainder(Decimal("0.02"), [Decimal(1)] * 3, 2) == [
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.00"),
    ]


def test_largest_remainder_refuses_zero_weights():
    with pytest.raises(ValueError, match="positive sum"):
        split_largest_remainder(Decimal("1"), [Decimal(0)], 2)
