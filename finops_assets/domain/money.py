"""Fixed-point money: parsing, rounding (ROUND_HALF_UP) and exact splits.

Money is never a float. Inside the pipeline every amount is `MONEY` = Decimal(38, 10).
"""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl

MONEY_SCALE = 10
MONEY = pl.Decimal(38, MONEY_SCALE)
# Half-up at MONEY_SCALE is decided by the next digit alone, so text is cut (never rounded) to
# one more decimal, read exactly, and rounded once. Exponent forms are cut the same way at _SCI.
_PLAIN = pl.Decimal(38, MONEY_SCALE + 1)
_SCI_SCALE = 20
_SCI = pl.Decimal(38, _SCI_SCALE)
# Working scale for products of two MONEY operands (sum of scales; see DESIGN.md).
WORK_SCALE = 20
WORK = pl.Decimal(38, WORK_SCALE)

# ISO 4217 minor units for the currencies we see most; the full table lives in reference data.
DEFAULT_MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KWD": 3, "BHD": 3, "CHF": 2}


def parse_money_expr(column: str) -> pl.Expr:
    """Text -> MONEY, rounded once half-up at scale 10; unparseable text becomes null (quarantine).

    Any number of decimals: digits past the 11th are cut before reading (they cannot change a
    half-up rounding at the 10th), so 0.0000000000499.. gives 0, never 1E-10 by a double rounding.
    """
    return parse_money_text_expr(pl.col(column))


def parse_money_text_expr(value: pl.Expr) -> pl.Expr:
    """parse_money_expr over any text expression (e.g. a field read out of a JSON record)."""
    text = value.cast(pl.Utf8).str.strip_chars()
    cut = text.str.replace(rf"^([+-]?\d*\.\d{{{MONEY_SCALE + 1}}})\d+$", "${1}")
    plain = cut.cast(_PLAIN, strict=False)
    exponent_form = text.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")
    return (
        pl.when(exponent_form)
        .then(_round_to_money(_exponent_text_expr(text).cast(_SCI, strict=False)))
        .otherwise(_round_to_money(plain))
    )


def _exponent_text_expr(text: pl.Expr) -> pl.Expr:
    """'m.mmm[eE]x' with the mantissa cut to at most _SCI_SCALE decimals of the value."""
    mantissa = text.str.extract(r"^([+-]?[\d.]+)[eE]", 1)
    exponent = text.str.extract(r"[eE]([+-]?\d+)$", 1).cast(pl.Int64, strict=False)
    dot = mantissa.str.find(".", literal=True)
    keep = (pl.lit(_SCI_SCALE) + exponent).clip(lower_bound=0)
    cut = pl.when(dot.is_null()).then(mantissa).otherwise(mantissa.str.slice(0, dot + 1 + keep))
    return pl.concat_str(cut.str.strip_suffix("."), pl.lit("e"), exponent.cast(pl.Utf8))


def _round_to_money(parsed: pl.Expr) -> pl.Expr:
    return parsed.round(MONEY_SCALE, mode="half_away_from_zero").cast(MONEY)


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
