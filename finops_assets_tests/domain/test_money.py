"""Money helpers against Python's decimal reference."""

import random
from decimal import ROUND_HALF_UP, Decimal, localcontext

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


# Texts whose digits past the 11th decimal decide nothing: half-up at the 10th is decided by the
# 11th digit alone, so a second rounding (e.g. at 18 first) must not push 0.49.. up to 0.5.
_MANY_DECIMALS = [
    "0.00000000004999999999999999999",
    "-0.00000000004999999999999999999",
    "0.000000000149999999999999999995",
    "12.345678901249999999999",
    "12.34567890125",
    "+7.5",
    ".25",
    "-.00000000005",
    "123456789012345678901234567.12345678905",
    "4.999999999999999999999E-11",
    "-4.999999999999999999999e-11",
    "1.5E+2",
    "2.5e-11",
    "9999E-14",
    "1.2345678901234567e-5",
]


def test_parse_money_rounds_once_half_up_whatever_the_number_of_decimals():
    got = pl.DataFrame({"t": _MANY_DECIMALS}).select(parse_money_expr("t"))["t"].to_list()
    with localcontext() as ctx:
        ctx.prec = 60
        expected = [
            Decimal(t).quantize(Decimal("1E-10"), rounding=ROUND_HALF_UP) for t in _MANY_DECIMALS
        ]
    assert got == expected


def test_parse_money_matches_python_on_random_long_texts():
    rng = random.Random(11)
    texts = [
        f"{rng.choice(['', '-'])}{rng.randint(0, 10**6)}.{rng.randint(0, 10**25):025d}"
        for _ in range(5_000)
    ]
    got = pl.DataFrame({"t": texts}).select(parse_money_expr("t"))["t"].to_list()
    assert got == [Decimal(t).quantize(Decimal("1E-10"), rounding=ROUND_HALF_UP) for t in texts]
