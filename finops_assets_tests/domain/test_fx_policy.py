"""FX policy per rule set: the day's rate, or a month-locked rate ("constant currency").

Rates are the real ECB history shipped in the package. The locked day is the month's first
day with a published rate (first_business_day) or the last published day of the month before
(previous_month_end); the conversion is ROUND_HALF_UP to the base currency's minor units,
checked against Python decimal, and allocation conserves every day exactly under it.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl
import pytest

from finops_assets.domain import fx
from finops_assets.domain.allocate import ALLOCATED_COLUMNS, allocate_costs
from finops_assets.domain.allocate_conservation import conservation_violations
from finops_assets.domain.fx_policy import (
    DAILY_POLICY,
    FxPolicy,
    apply_fx_policy,
    locked_rate_day,
    month_locked_rates,
    parse_fx_policy,
)
from finops_assets.domain.rules import RulesError, load_rules
from finops_assets_tests.domain.test_allocate import RULES, random_estate

CURRENCIES = ["USD", "JPY", "EUR"]


def estate(seed: int, rows: int, day: dt.date) -> pl.DataFrame:
    """Random normalized rows of one day in USD, JPY and EUR, base EUR (converted daily)."""
    frame = random_estate(seed, rows)
    picks = [CURRENCIES[i % 3] for i in range(frame.height)]
    return frame.with_columns(
        x_charge_date=pl.lit(day),
        BillingCurrency=pl.Series(picks),
        x_base_currency=pl.lit("EUR"),
    )


FIRST = FxPolicy("month_locked", "first_business_day")
PREVIOUS = FxPolicy("month_locked", "previous_month_end")


@pytest.fixture(scope="module")
def ecb() -> pl.DataFrame:
    return fx.load_shipped_ecb_rates()


@pytest.mark.parametrize(
    ("day", "policy", "expected"),
    [
        # 1 May 2026 is a TARGET holiday (Friday), then a weekend: the first rate is 4 May
        (dt.date(2026, 5, 20), FIRST, dt.date(2026, 5, 4)),
        (dt.date(2026, 5, 1), FIRST, dt.date(2026, 5, 4)),  # the locked day may come later
        # 1 January is a TARGET holiday: the ECB's first 2026 rate is 2 January
        (dt.date(2026, 1, 31), FIRST, dt.date(2026, 1, 2)),
        (dt.date(2026, 10, 17), FIRST, dt.date(2026, 10, 1)),
        # 28 February 2026 is a Saturday: the month ends on Friday's rate
        (dt.date(2026, 3, 15), PREVIOUS, dt.date(2026, 2, 27)),
        (dt.date(2026, 1, 2), PREVIOUS, dt.date(2025, 12, 31)),
        (dt.date(2026, 10, 31), PREVIOUS, dt.date(2026, 9, 30)),
    ],
)
def test_the_locked_day_is_the_months_published_day(ecb, day, policy, expected):
    assert locked_rate_day(ecb, day, policy) == expected


def test_a_month_without_a_published_rate_yet_is_missing_not_guessed(ecb):
    # the shipped history ends 2026-10-30: November's first business day is not published
    with pytest.raises(fx.FxRateMissingError, match="2026-11"):
        locked_rate_day(ecb, dt.date(2026, 11, 3), FIRST)


def test_every_day_of_a_month_gets_the_same_rate_date_and_source(ecb):
    days = [dt.date(2026, 5, d) for d in (1, 2, 4, 15, 31)]
    frames = [month_locked_rates(ecb, d, FIRST, ["USD", "JPY"], "EUR") for d in days]
    for frame in frames[1:]:
        assert frame.equals(frames[0])
    usd = frames[0].filter(pl.col("currency") == "USD").row(0, named=True)
    # ECB 2026-05-04: USD 1.17 per EUR -> 1 USD = 1/1.17 EUR, half-up at 12 decimals
    assert usd["x_fx_rate"] == Decimal("0.854700854701")
    assert usd["x_fx_rate_date"] == dt.date(2026, 5, 4)
    assert usd["x_fx_rate_source"] == "ECB eurofxref, month_locked first_business_day 2026-05"
    assert frames[0].filter(pl.col("currency") == "EUR")["x_fx_rate"].item() == Decimal(1)


def _half_up(value: Decimal, places: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def test_locked_conversion_is_half_up_and_billed_amounts_never_change(ecb):
    normalized = estate(5, 300, dt.date(2026, 10, 20))
    locked = month_locked_rates(ecb, dt.date(2026, 10, 20), PREVIOUS, ["USD", "JPY"], "EUR")
    out = apply_fx_policy(normalized, PREVIOUS, locked, "EUR")
    assert out["BilledCost"].equals(normalized["BilledCost"])
    assert out["EffectiveCost"].equals(normalized["EffectiveCost"])
    rates = dict(zip(locked["currency"], locked["x_fx_rate"], strict=True))
    for row in out.iter_rows(named=True):
        rate = rates[row["BillingCurrency"]]
        assert row["x_fx_rate"] == rate
        assert row["x_fx_rate_date"] == dt.date(2026, 9, 30)
        assert row["x_billed_cost_base"] == _half_up(row["BilledCost"] * rate, 2)
        assert row["x_effective_cost_base"] == _half_up(row["EffectiveCost"] * rate, 2)
    assert set(out["x_base_currency"].to_list()) == {"EUR"}
    # at least one row lands exactly on a half cent somewhere in the product: half-up, not even
    halves = Decimal("0.005")
    probe = pl.DataFrame(
        {"BillingCurrency": ["EUR"], "BilledCost": [halves], "EffectiveCost": [-halves]},
        schema_overrides={"BilledCost": fx.MONEY, "EffectiveCost": fx.MONEY},
    ).with_columns(
        x_base_currency=pl.lit("EUR"),
        x_billed_cost_base=pl.lit(Decimal(0)).cast(fx.MONEY),
        x_effective_cost_base=pl.lit(Decimal(0)).cast(fx.MONEY),
    )
    half = apply_fx_policy(probe, PREVIOUS, locked, "EUR").row(0, named=True)
    assert (half["x_billed_cost_base"], half["x_effective_cost_base"]) == (
        Decimal("0.01"),
        Decimal("-0.01"),
    )


def test_allocation_under_a_locked_rate_conserves_both_currencies_exactly(ecb):
    normalized = estate(9, 400, dt.date(2026, 5, 9))
    locked = month_locked_rates(ecb, dt.date(2026, 5, 9), FIRST, ["USD", "JPY"], "EUR")
    converted = apply_fx_policy(normalized, FIRST, locked, "EUR")
    assert not converted["x_billed_cost_base"].equals(normalized["x_billed_cost_base"])
    allocated = allocate_costs(converted, RULES)
    assert conservation_violations(converted, allocated).is_empty()
    # billed currency: conserved against the original rows too (never re-converted)
    totals = allocated.group_by("BillingCurrency").agg(pl.col("BilledCost").sum()).sort("*")
    source = normalized.group_by("BillingCurrency").agg(pl.col("BilledCost").sum()).sort("*")
    assert totals.equals(source)
    # every allocated row records the locked rate, its date and source
    assert set(allocated["x_fx_rate_date"].to_list()) == {dt.date(2026, 5, 4)}
    assert allocated["x_fx_rate_source"].null_count() == 0
    assert list(allocated.schema.items()) == list(ALLOCATED_COLUMNS.items())


def test_daily_policy_leaves_amounts_and_rates_as_normalized():
    normalized = estate(3, 100, dt.date(2026, 5, 9))
    out = apply_fx_policy(normalized, DAILY_POLICY, None, "EUR")
    for column in ("x_billed_cost_base", "x_effective_cost_base", "BilledCost"):
        assert out[column].equals(normalized[column])
    assert set(out["x_fx_rate_source"].to_list()) == {"ECB eurofxref, daily (fx_rates)"}


def test_a_currency_without_a_locked_rate_names_the_day_and_currency(ecb):
    normalized = estate(4, 50, dt.date(2026, 5, 9))
    locked = month_locked_rates(ecb, dt.date(2026, 5, 9), FIRST, ["USD"], "EUR")
    with pytest.raises(fx.FxRateMissingError, match=r"JPY.*2026-05"):
        apply_fx_policy(normalized, FIRST, locked.filter(pl.col("currency") != "JPY"), "EUR")


def test_the_rules_file_declares_the_policy_and_its_hash_covers_it():
    shipped = (RULES.document_json, RULES.data_version)
    text = 'version: "1"\nbusiness_units: [a]\n'
    assert load_rules(text).fx == DAILY_POLICY
    locked = load_rules(text + "fx: {policy: month_locked, rate_day: previous_month_end}\n")
    assert locked.fx == PREVIOUS
    assert locked.content_hash != load_rules(text).content_hash
    assert load_rules(text + "fx: {policy: month_locked}\n").fx == FIRST  # the default day
    with pytest.raises(RulesError, match="rate_day"):
        load_rules(text + "fx: {policy: daily, rate_day: previous_month_end}\n")
    with pytest.raises(RulesError, match="fx"):
        load_rules(text + "fx: {policy: weekly}\n")
    assert shipped == (RULES.document_json, RULES.data_version)
    assert parse_fx_policy(None) == DAILY_POLICY
