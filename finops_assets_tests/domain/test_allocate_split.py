"""The vectorized largest-remainder split equals money.split_largest_remainder exactly."""

import random
from decimal import Decimal, localcontext

import polars as pl
import pytest

from finops_assets.domain.allocate_split import SHARE_SCALE, SHARE_UNITS, split_parts
from finops_assets.domain.money import MONEY, split_largest_remainder


def parts_frame(amounts: list[Decimal], weights: list[list[int]]) -> pl.DataFrame:
    rows = []
    for key, (amount, row_weights) in enumerate(zip(amounts, weights, strict=True)):
        shares = split_largest_remainder(Decimal(1), [Decimal(w) for w in row_weights], SHARE_SCALE)
        for position, share in enumerate(shares):
            units = int(share.scaleb(SHARE_SCALE))
            rows.append({"k": key, "u": f"u{position:02d}", "_w": units, "c": amount, "b": amount})
    return pl.DataFrame(
        rows, schema={"k": pl.Int64, "u": pl.Utf8, "_w": pl.Int128, "c": MONEY, "b": MONEY}
    )


def reference(frame: pl.DataFrame, column: str, scale: int) -> dict[int, list[Decimal]]:
    result = {}
    with localcontext() as ctx:
        ctx.prec = 60  # the default 28 digits would round amounts of 38 digits
        for (key,), group in frame.group_by("k", maintain_order=True):
            shares = [Decimal(w) / SHARE_UNITS for w in group["_w"].to_list()]
            result[key] = split_largest_remainder(group[column][0], shares, scale)
    return result


def got(frame: pl.DataFrame, column: str) -> dict[int, list[Decimal]]:
    result: dict[int, list[Decimal]] = {}
    for key, value in frame.select("k", column).iter_rows():
        result.setdefault(key, []).append(value)
    return result


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_splits_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    amounts, weights = [], []
    for _ in range(600):
        size = rng.randint(1, 9)
        row = [rng.choice([0, 1, 1, 2, 3, rng.randint(1, 10**6)]) for _ in range(size)]
        row[0] = row[0] or 1
        magnitude = rng.choice([10, 10**6, 10**14, 10**27])
        cents = rng.randint(-magnitude, magnitude)
        amounts.append(Decimal(cents).scaleb(-2))
        weights.append(row)
    frame = parts_frame(amounts, weights)
    out = split_parts(frame, "k", {"c": pl.lit(1), "b": pl.lit(10**8)})
    assert got(out, "c") == reference(frame, "c", 10)
    assert got(out, "b") == reference(frame, "b", 2)


def test_ties_go_to_the_first_part_and_signs_are_kept() -> None:
    frame = parts_frame([Decimal("1.00"), Decimal("-1.00"), Decimal("0.02")], [[1, 1, 1]] * 3)
    out = split_parts(frame, "k", {"b": pl.lit(10**8)})
    assert got(out, "b") == {
        0: [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")],
        1: [Decimal("-0.34"), Decimal("-0.33"), Decimal("-0.33")],
        2: [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")],
    }


def test_bad_parts_are_refused() -> None:
    frame = parts_frame([Decimal("1.001")], [[1, 1]])
    with pytest.raises(ValueError, match="minor unit"):
        split_parts(frame, "k", {"b": pl.lit(10**8)})
    unbalanced = frame.with_columns(pl.lit(1, pl.Int128).alias("_w"))
    with pytest.raises(ValueError, match="sum to SHARE_UNITS"):
        split_parts(unbalanced, "k", {"c": pl.lit(1)})
