"""Conservation of every money column per currency and charge category across normalization."""

from decimal import Decimal

import polars as pl

from finops_assets.domain.conservation import base_twin_mismatches, money_conservation
from finops_assets.domain.money import MONEY

MONEY_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def _rows(*values: tuple[str, str, str, str]) -> pl.DataFrame:
    """(currency, category, billed, effective); list and contracted = billed + 1."""
    return pl.DataFrame(
        {
            "BillingCurrency": [v[0] for v in values],
            "ChargeCategory": [v[1] for v in values],
            "BilledCost": [Decimal(v[2]) for v in values],
            "EffectiveCost": [Decimal(v[3]) for v in values],
            "ListCost": [Decimal(v[2]) + 1 for v in values],
            "ContractedCost": [Decimal(v[2]) + 1 for v in values],
        },
        schema_overrides={c: MONEY for c in MONEY_COLUMNS},
    )


def _quarantine(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        pl.col("BilledCost").cast(pl.Utf8).alias("x_amount"),
        pl.col("BillingCurrency").alias("x_currency"),
        pl.struct(pl.all()).struct.json_encode().alias("x_raw_record"),
    )


SOURCE = _rows(
    ("USD", "Usage", "10", "8"),
    ("USD", "Credit", "-2", "-2"),
    ("EUR", "Usage", "5", "0"),
    ("USD", "Usage", "0", "1230"),
)


def test_every_column_balances_when_rows_are_split_between_normalized_and_quarantine():
    report = money_conservation(SOURCE, SOURCE.head(3), _quarantine(SOURCE.tail(1)))
    assert report.filter(pl.col("difference") != 0).is_empty()
    usage_effective = report.filter(
        (pl.col("currency") == "USD")
        & (pl.col("ChargeCategory") == "Usage")
        & (pl.col("money_column") == "EffectiveCost")
    ).row(0, named=True)
    assert usage_effective["source"] == Decimal("1238")
    assert usage_effective["quarantined"] == Decimal("1230")
    assert set(report["money_column"]) == set(MONEY_COLUMNS)


def test_effective_cost_lost_with_zero_billed_is_a_difference():
    report = money_conservation(SOURCE, SOURCE.head(3), _quarantine(SOURCE.head(0)))
    broken = report.filter(pl.col("difference") != 0)
    assert broken.select("currency", "ChargeCategory", "money_column", "difference").rows() == [
        ("USD", "Usage", "ContractedCost", Decimal("1")),
        ("USD", "Usage", "EffectiveCost", Decimal("1230")),
        ("USD", "Usage", "ListCost", Decimal("1")),
    ]


def test_an_amount_changed_in_one_category_shows_in_that_category_only():
    changed = SOURCE.head(3).with_columns(
        pl.when(pl.col("ChargeCategory") == "Credit")
        .then(pl.lit(Decimal("-1")).cast(MONEY))
        .otherwise(pl.col("BilledCost"))
        .alias("BilledCost")
    )
    report = money_conservation(SOURCE, changed, _quarantine(SOURCE.tail(1)))
    broken = report.filter(pl.col("difference") != 0)
    assert broken.select("ChargeCategory", "money_column", "difference").rows() == [
        ("Credit", "BilledCost", Decimal("-1"))
    ]


def _normalized_with_base() -> pl.DataFrame:
    rows = SOURCE.head(3).with_columns(
        pl.lit("1.1").cast(pl.Decimal(38, 12)).alias("x_fx_rate"),
        pl.lit("USD").alias("x_base_currency"),
    )
    return rows.with_columns(
        (pl.col(c) * pl.col("x_fx_rate")).round(2, mode="half_away_from_zero").cast(MONEY).alias(b)
        for c, b in BASE.items()
    )


BASE = {
    "BilledCost": "x_billed_cost_base",
    "EffectiveCost": "x_effective_cost_base",
    "ListCost": "x_list_cost_base",
    "ContractedCost": "x_contracted_cost_base",
}


def test_base_currency_twins_match_their_billing_amounts():
    assert base_twin_mismatches(_normalized_with_base()).is_empty()


def test_a_base_twin_off_by_a_cent_is_named():
    rows = _normalized_with_base()
    tampered = rows.with_columns(
        pl.when(pl.col("ChargeCategory") == "Credit")
        .then(pl.col("x_effective_cost_base") + pl.lit(Decimal("0.01")).cast(MONEY))
        .otherwise(pl.col("x_effective_cost_base"))
        .cast(MONEY)
        .alias("x_effective_cost_base")
    )
    broken = base_twin_mismatches(tampered)
    assert broken.select("currency", "ChargeCategory", "money_column", "rows").rows() == [
        ("USD", "Credit", "x_effective_cost_base", 1)
    ]
    assert broken["difference"].to_list() == [Decimal("0.01")]
