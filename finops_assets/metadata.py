"""Small helpers that turn frames into Dagster UI metadata (markdown tables)."""

from collections.abc import Sequence
from decimal import Decimal

import dagster as dg
import polars as pl

from finops_assets.domain.money import quantize_half_up
from finops_assets.domain.reference import minor_units_table

DEFAULT_MINOR_DIGITS = 2  # for a code missing from ISO 4217 (shown, not stored)


def markdown_table(rows: Sequence[dict] | pl.DataFrame, limit: int = 50) -> dg.MetadataValue:
    """A markdown table for the Dagster UI; Decimals and dates shown as text, never as floats."""
    records = rows.head(limit).to_dicts() if isinstance(rows, pl.DataFrame) else list(rows)[:limit]
    if not records:
        return dg.MetadataValue.md("_none_")
    headers = list(records[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for record in records:
        lines.append(
            "| " + " | ".join("" if record[h] is None else str(record[h]) for h in headers) + " |"
        )
    return dg.MetadataValue.md("\n".join(lines))


def format_money(amount: Decimal | None, currency: str) -> str:
    """An amount shown in the currency's minor units, half-up: 1,234.57 USD, 1,235 JPY."""
    if amount is None:
        return ""
    digits = minor_units_table().get(currency, DEFAULT_MINOR_DIGITS)
    shown = quantize_half_up(amount, digits) + 0  # + 0 turns -0.00 into 0.00
    return f"{shown:,} {currency}"


def money_table(
    frame: pl.DataFrame,
    amounts: Sequence[str],
    currency: str,
    by: Sequence[str] = (),
    limit: int = 50,
) -> dg.MetadataValue:
    """Per currency (and `by` columns, e.g. business unit): the sums of `amounts`, in minor units.

    `currency` is a column of `frame` (BillingCurrency) or, when no such column exists, the
    currency code itself (the base currency). Sums are exact decimals; only the display rounds.
    """
    if frame.is_empty() or not amounts:
        return dg.MetadataValue.md("_no money: no rows_")
    cur = pl.col(currency) if currency in frame.columns else pl.lit(currency)
    keys = [cur.alias("currency"), *[pl.col(c) for c in by]]
    sums = (
        frame.group_by(keys)
        .agg([pl.col(a).sum() for a in amounts])
        .sort(["currency", *by], nulls_last=True)
    )
    records = [
        {
            "currency": r["currency"],
            **{c: r[c] for c in by},
            **{a: format_money(r[a], r["currency"] or "") for a in amounts},
        }
        for r in sums.head(limit).to_dicts()
    ]
    return markdown_table(records, limit=limit)


def money_rows(
    frame: pl.DataFrame,
    shown: Sequence[str],
    amounts: Sequence[str],
    currency: str,
    limit: int = 50,
) -> dg.MetadataValue:
    """A markdown table of rows: the `shown` columns as text, `amounts` in minor units.

    `currency` is a column of `frame` or, when no such column exists, the currency code itself.
    """
    records = []
    for row in frame.head(limit).to_dicts():
        code = row[currency] if currency in frame.columns else currency
        records.append(
            {
                **{c: row[c] for c in shown},
                **{a: format_money(row[a], code or "") for a in amounts},
            }
        )
    return markdown_table(records, limit=limit)
