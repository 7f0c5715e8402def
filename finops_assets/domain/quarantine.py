"""Quarantine limits: how much money (per currency and money column) and how many files a day
may put aside before the day fails instead of passing with money missing.

Used at every stage that quarantines (raw ingestion and normalization). A failure names the day,
the currency and money column, the files and the top reasons, so the person who reads it knows
where to look without opening the quarantine table.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from finops_assets.domain.money import MONEY, parse_money_text_expr

# The FOCUS money columns every limit and every conservation proof covers.
MONEY_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
_TOP = 5


@dataclass(frozen=True)
class QuarantineLimits:
    """A day fails when, for any currency and money column, quarantined money is above
    `max_share` of the day's money or above `max_amount` (in that currency; None: no absolute
    limit), or when more than `max_refused_files` files could not be read at all, or every file
    of the day was refused."""

    max_share: Decimal = Decimal("0.01")
    max_amount: Decimal | None = None
    max_refused_files: int = 1

    @classmethod
    def from_settings(cls, settings: Any) -> "QuarantineLimits":
        """The deployment's limits (FINOPS_QUARANTINE_* in settings.Settings)."""
        return cls(
            max_share=settings.quarantine_max_share,
            max_amount=settings.quarantine_max_amount,
            max_refused_files=settings.quarantine_max_refused_files,
        )


def quarantined_money(quarantine: pl.DataFrame, raw_columns: Mapping[str, str]) -> pl.DataFrame:
    """Quarantined amounts in long form: x_currency, money_column, amount, file, reason.

    BilledCost comes from x_amount (every stage fills it); the other money columns are read from
    the row's original record (x_raw_record) under the name `raw_columns` maps them to, where the
    stage knows one. Unreadable amounts count as 0 here; the row still counts in the table.
    """
    parts = []
    for column in MONEY_COLUMNS:
        if column == "BilledCost":
            text = pl.col("x_amount")
        elif column in raw_columns:
            text = pl.col("x_raw_record").str.json_path_match(f"$.{raw_columns[column]}")
        else:
            continue
        parts.append(
            quarantine.select(
                pl.col("x_currency").fill_null("<unknown>"),
                pl.lit(column).alias("money_column"),
                parse_money_text_expr(text).fill_null(Decimal(0)).alias("amount"),
                pl.col("x_source_file").fill_null("<unknown>").alias("file"),
                pl.col("x_reason").fill_null("").alias("reason"),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={
                "x_currency": pl.Utf8,
                "money_column": pl.Utf8,
                "amount": MONEY,
                "file": pl.Utf8,
                "reason": pl.Utf8,
            }
        )
    return pl.concat(parts, how="vertical")


def limit_failures(
    day: dt.date,
    kept: pl.DataFrame,
    quarantined: pl.DataFrame,
    limits: QuarantineLimits,
) -> list[dict]:
    """Per currency and money column where quarantined money crosses a limit: what and why.

    `kept` holds [currency, money_column, amount]: the money of the rows that got through;
    `quarantined` is quarantined_money(...). Share = |quarantined| / (|quarantined| + |kept|).
    """
    if quarantined.is_empty():
        return []
    per_key = quarantined.group_by("x_currency", "money_column").agg(
        pl.col("amount").abs().sum().cast(MONEY).alias("quarantined"), pl.len().alias("rows")
    )
    good = {
        (r["currency"], r["money_column"]): abs(r["amount"] or Decimal(0)) for r in kept.to_dicts()
    }
    failures = []
    for record in per_key.sort("x_currency", "money_column").to_dicts():
        amount = record["quarantined"] or Decimal(0)
        key = (record["x_currency"], record["money_column"])
        total = amount + good.get(key, Decimal(0))
        share = amount / total if total else Decimal(0)
        over_share = share > limits.max_share
        over_amount = limits.max_amount is not None and amount > limits.max_amount
        if not (over_share or over_amount):
            continue
        mine = quarantined.filter(
            (pl.col("x_currency") == key[0]) & (pl.col("money_column") == key[1])
        )
        failures.append(
            {
                "day": day.isoformat(),
                "currency": key[0],
                "money_column": key[1],
                "quarantined": plain_amount(amount),
                "rows": record["rows"],
                "share": str(round(share, 6)),
                "limit": _limit_text(limits, over_share),
                "files": _top(mine, "file"),
                "top_reasons": _top(mine, "reason"),
            }
        )
    return failures


def refused_file_failures(
    day: dt.date, refused: list[dict], files: int, limits: QuarantineLimits
) -> list[dict]:
    """A failure when more files than allowed (or all of them) could not be read."""
    if not refused:
        return []
    if len(refused) <= limits.max_refused_files and len(refused) < files:
        return []
    return [
        {
            "day": day.isoformat(),
            "refused_files": len(refused),
            "files": files,
            "limit": f"at most {limits.max_refused_files} refused file(s), never all of them",
            "top_reasons": [f"{r['file']}: {r['reason']}" for r in refused[:_TOP]],
        }
    ]


def plain_amount(amount: Decimal) -> str:
    """An amount without trailing zeros or exponent: 1230, 0.5, -12.25."""
    return format(amount.normalize(), "f")


def _limit_text(limits: QuarantineLimits, over_share: bool) -> str:
    if over_share:
        return f"share > {limits.max_share}"
    return f"amount > {limits.max_amount}"


def _top(frame: pl.DataFrame, column: str) -> list[str]:
    """The values of `column` holding the most quarantined money, with their row counts."""
    top = (
        frame.group_by(column)
        .agg(pl.col("amount").abs().sum().alias("money"), pl.len().alias("rows"))
        .sort(["money", "rows", column], descending=[True, True, False])
        .head(_TOP)
    )
    return [f"{r[column]} ({r['rows']} rows, {plain_amount(r['money'])})" for r in top.to_dicts()]
