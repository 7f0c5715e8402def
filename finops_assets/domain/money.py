"""Fixed-point money: parsing, rounding (ROUND_HALF_UP) and exact splits.

Money is never a float. Inside the pipeline every amount is `MONEY` = Decimal(38, 10).
"""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl

MONEY_SCALE = 10
MONEY = pl.Decimal(38, MONEY_SCALE)
# Scale used to parse text before rounding it half-up to MONEY_SCALE.
_PARSE = pl.Decimal(38, 18)
# Working scale for products of two MONEY operands (sum of scales; see DESIGN.md).
WORK_SCALE = 20
WORK = pl.Decimal(38, WORK_SCALE)

# ISO 4217 minor units for the currencies we see most; the full table lives in reference data.
DEFAULT_MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KWD": 3, "BHD": 3, "CHF": 2}


def parse_money_expr(column: str) -> pl.Expr:
    """Text -> MONEY, half-up at scale 10; unparseable text becomes null (quarantine it)."""
    text = pl.col(column).cast(pl.Utf8).str.strip_chars()
    return (
        text.cast(_PARSE, strict=False).round(MONEY_SCALE, mode="half_away_from_zero").cast(MONEY)
    )


def round_half_up_expr(expr: pl.Expr, scale: int) -> pl.Expr:
    """Round a decimal expression half away from zero (= Python ROUND_HALF_UP), keeping MONEY."""
    return expr.round(scale, mode="half_away_from_zero").cast(MONEY)


def multiply_exact_expr(amount: pl.Expr, factor: pl.Expr, scale: int) -> pl.Expr:
    """amount * factor rounded half-up to `scale`, computed at a working scale wide enough to be exact.

    Polars multiplies decimals at the wider operand scale, rounding half-to-even first; casting both
    operands to WORK (scale 20) first keeps the product exact before the one half-up rounding.
    """
    product = amount.cast(WORK) * factor.cast(WORK)
    return product.round(scale, mode="half_away_from_zero").cast(MONEY)


def to_money(value: str | int | Decimal) -> Decimal:
    """A Python Decimal at MONEY_SCALE, half-up (the reference implementation)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-MONEY_SCALE), rounding=ROUND_HALF_UP)


def quantize_half_up(value: Decimal, scale: int) -> Decimal:
    """Python reference rounding: ROUND_HALF_UP at `scale` decimals."""
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def split_largest_remainder(total: Decimal, weights: list[Decimal], scale: int) -> list[Decimal]:
    """Split `total` by `weights` into amounts at `scale` decimals that sum to `total` exactly.

    Each share is floored (towards zero) to the unit, then the leftover units go one each to the
    largest remainders, ties to the earliest weight (stable). Weights must be >= 0 with a
    positive sum. `total` must already be a multiple of the unit.
    """
    weight_sum = sum(weights, Decimal(0))
    if weight_sum <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    unit = Decimal(1).scaleb(-scale)
    total_units = int((total / unit).to_integral_value())
    if Decimal(total_units) * unit != total:
        raise ValueError(f"total {total} is not a multiple of {unit}")
    sign = -1 if total_units < 0 else 1
    magnitude = abs(total_units)
    with localcontext() as ctx:
        ctx.prec = 80
        exact = [Decimal(magnitude) * w / weight_sum for w in weights]
        floors = [int(e) for e in exact]
        leftover = magnitude - sum(floors)
        order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:leftover]:
            floors[i] += 1
        return [Decimal(sign * units) * unit for units in floors]
