"""Conservation across a stage boundary: every money column, per currency and charge category.

What went in must equal what came out plus what was quarantined, exactly, for BilledCost,
EffectiveCost, ListCost and ContractedCost. Quarantined amounts are read back from the row's
original record (x_raw_record, FOCUS names), so a row with BilledCost 0 and EffectiveCost 1,230
that is put aside still counts its 1,230.
"""

from decimal import Decimal

import polars as pl

from finops_assets.domain import fx
from finops_assets.domain.money import MONEY, parse_money_text_expr
from finops_assets.domain.quarantine import MONEY_COLUMNS

_KEYS = ("currency", "ChargeCategory", "money_column")
_UNKNOWN = "<unknown>"


def money_conservation(
    source: pl.DataFrame, normalized: pl.DataFrame, quarantine: pl.DataFrame
) -> pl.DataFrame:
    """Per currency, ChargeCategory and money column: source, normalized, quarantined, difference.

    `source` and `normalized` carry FOCUS columns (BillingCurrency, ChargeCategory and the money
    columns they have); `quarantine` carries x_currency and x_raw_record. difference = source -
    normalized - quarantined, exactly 0 when nothing was lost or doubled.
    """
    columns = [c for c in MONEY_COLUMNS if c in source.columns]
    parts = [
        _long(source, columns, "source"),
        _long(normalized, columns, "normalized"),
        _quarantined_long(quarantine, columns),
    ]
    report = parts[0]
    for part in parts[1:]:
        report = report.join(part, on=list(_KEYS), how="full", coalesce=True, nulls_equal=True)
    zero = pl.lit(Decimal(0)).cast(MONEY)
    amounts = ["source", "normalized", "quarantined"]
    report = report.with_columns(pl.col(a).fill_null(zero) for a in amounts)
    difference = pl.col("source") - pl.col("normalized") - pl.col("quarantined")
    return report.with_columns(difference=difference.cast(MONEY)).sort(list(_KEYS))


def _long(frame: pl.DataFrame, columns: list[str], name: str) -> pl.DataFrame:
    """Sums of each money column per currency and category, one row per money column."""
    keys = [
        pl.col("BillingCurrency").cast(pl.Utf8).fill_null(_UNKNOWN).alias("currency"),
        pl.col("ChargeCategory").cast(pl.Utf8).fill_null(_UNKNOWN),
    ]
    sums = frame.group_by(keys).agg(pl.col(c).sum().cast(MONEY) for c in columns)
    return sums.unpivot(
        index=["currency", "ChargeCategory"], variable_name="money_column", value_name=name
    ).with_columns(pl.col(name).cast(MONEY))


def _quarantined_long(quarantine: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    record = pl.col("x_raw_record")
    fields = quarantine.select(
        pl.col("x_currency").alias("BillingCurrency"),
        record.str.json_path_match("$.ChargeCategory").alias("ChargeCategory"),
        *[parse_money_text_expr(record.str.json_path_match(f"$.{c}")).alias(c) for c in columns],
    )
    return _long(fields, columns, "quarantined")


def base_twin_mismatches(normalized: pl.DataFrame) -> pl.DataFrame:
    """Base-currency twins (x_*_base) that differ from their billing amount converted again.

    Each twin must equal convert_to_base_currency(amount, x_fx_rate) at the base currency's
    minor units, row by row. Per billing currency, ChargeCategory and twin: the rows that
    differ and the summed difference (stored - recomputed); empty when every twin is exact.
    """
    from finops_assets.domain.normalize import BASE_AMOUNT_COLUMNS

    bases = normalized["x_base_currency"].drop_nulls().unique().to_list()
    if not bases or normalized.is_empty():
        return pl.DataFrame(
            schema={
                "currency": pl.Utf8,
                "ChargeCategory": pl.Utf8,
                "money_column": pl.Utf8,
                "rows": pl.UInt32,
                "difference": MONEY,
            }
        )
    units = pl.col("x_base_currency").replace_strict(  # per currency, not per row
        {base: fx.minor_units(base) for base in bases}, return_dtype=pl.Int64
    )
    frames = []
    for amount, twin in BASE_AMOUNT_COLUMNS.items():
        if twin not in normalized.columns:
            continue
        again = fx.convert_to_base_currency_expr(pl.col(amount), pl.col("x_fx_rate"), units)
        frames.append(
            normalized.select(
                pl.col("BillingCurrency").fill_null(_UNKNOWN).alias("currency"),
                pl.col("ChargeCategory").fill_null(_UNKNOWN),
                pl.lit(twin).alias("money_column"),
                (pl.col(twin) - again).cast(MONEY).alias("difference"),
            )
        )
    long = pl.concat(frames).filter(pl.col("difference") != 0)
    return (
        long.group_by("currency", "ChargeCategory", "money_column")
        .agg(pl.len().alias("rows"), pl.col("difference").sum().cast(MONEY))
        .sort("currency", "ChargeCategory", "money_column")
    )
