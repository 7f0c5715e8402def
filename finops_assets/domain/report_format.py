"""Money and ratios as people read them: minor units, thousands separators, no 10-decimal noise."""

from decimal import Decimal

import polars as pl

from finops_assets.domain.money import quantize_half_up


def format_money(value: Decimal | None, minor_units: int) -> str:
    """1234567.5 -> '1,234,567.50' (USD), half-up to the currency's minor units; None -> ''."""
    if value is None:
        return ""
    rounded = quantize_half_up(value, minor_units)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    return f"{rounded:,.{minor_units}f}"


def format_ratio(value: Decimal | None) -> str:
    """0.1234 -> '12.34 %'; None -> 'n/a'."""
    if value is None:
        return "n/a"
    return f"{quantize_half_up(value * 100, 2):,.2f} %"


def format_percent(value: Decimal | None) -> str:
    """A value already in percent (budget_status) -> '81.25 %'."""
    if value is None:
        return "n/a"
    return f"{quantize_half_up(value, 2):,.2f} %"


def amount_text(value: Decimal, minor_units: int) -> str:
    """An amount as plain decimal text at minor units ('1234.50'): what the charts are given."""
    return str(quantize_half_up(value, minor_units))


def text_rows(
    frame: pl.DataFrame,
    minor_units: int,
    ratios: tuple[str, ...] = (),
    percents: tuple[str, ...] = (),
    currency_column: str | None = None,
    minor_units_of: dict[str, int] | None = None,
) -> list[dict[str, str]]:
    """Each row as text: Decimal columns as money (in its row's currency if `currency_column`)."""
    rows = []
    for record in frame.to_dicts():
        digits = minor_units
        if currency_column and minor_units_of is not None:
            digits = minor_units_of.get(str(record[currency_column]), minor_units)
        row = {}
        for name, value in record.items():
            if name in ratios:
                row[name] = format_ratio(value)
            elif name in percents:
                row[name] = format_percent(value)
            elif isinstance(value, Decimal):
                row[name] = format_money(value, digits)
            else:
                row[name] = (
                    "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
                )
        rows.append(row)
    return rows
