"""FX: ECB parsing, weekend lookback, cross rates and exact conversion against Python decimal."""

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl
import pytest

from finops_assets.domain import fx
from finops_assets.domain.money import MONEY

ECB_SAMPLE = """Date,USD,JPY,CYP,GBP,KWD,
2024-01-05,1.0921,158.57,N/A,0.8621,0.3357,
2024-01-04,1.0953,158.89,N/A,0.86518,0.3366,
2023-12-29,1.1050,156.33,N/A,0.86905,,
"""


@pytest.fixture(scope="module")
def ecb_rates() -> pl.DataFrame:
    return fx.load_shipped_ecb_rates()


def reference_rate(per_eur_base: str, per_eur_currency: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80
        exact = Decimal(per_eur_base) / Decimal(per_eur_currency)
    return exact.quantize(Decimal("1e-12"), rounding=ROUND_HALF_UP)


def test_load_ecb_rates_handles_na_trailing_comma_and_euro():
    rates = fx.load_ecb_rates(ECB_SAMPLE)
    assert rates.schema == pl.Schema(fx.RATES_SCHEMA)
    assert "CYP" not in rates["currency"].to_list()
    assert "" not in rates["currency"].to_list()
    day = rates.filter(pl.col("rate_date") == dt.date(2024, 1, 5))
    values = dict(zip(day["currency"], day["units_per_eur"], strict=True))
    assert values == {
        "EUR": Decimal(1),
        "GBP": Decimal("0.8621"),
        "JPY": Decimal("158.57"),
        "KWD": Decimal("0.3357"),
        "USD": Decimal("1.0921"),
    }
    # KWD empty on 2023-12-29: no row rather than a zero rate
    assert rates.filter(
        (pl.col("currency") == "KWD") & (pl.col("rate_date").dt.year() == 2023)
    ).is_empty()


def test_weekend_uses_fridays_rate_and_records_it(ecb_rates):
    saturday = dt.date(2024, 1, 6)
    day = fx.rates_for_day(ecb_rates, saturday, ["USD", "JPY"])
    assert day["x_fx_rate_date"].unique().to_list() == [dt.date(2024, 1, 5)]
    assert day["x_charge_date"].unique().to_list() == [saturday]
    usd = day.filter(pl.col("currency") == "USD")["units_per_eur"].item()
    assert usd == Decimal("1.0921")


def test_missing_beyond_lookback_names_currency_and_day():
    rates = fx.load_ecb_rates(ECB_SAMPLE)
    with pytest.raises(fx.FxRateMissingError, match=r"KWD.*2024-01-03"):
        fx.rates_for_day(rates, dt.date(2024, 1, 3), ["KWD", "USD"], lookback_days=7)
    with pytest.raises(fx.FxRateMissingError, match=r"CHF.*2024-01-05"):
        fx.rates_for_day(rates, dt.date(2024, 1, 5), ["CHF"])
    # inside the lookback it is found
    assert fx.rates_for_day(rates, dt.date(2024, 1, 3), ["USD"], lookback_days=7).height == 2


def test_conversion_rates_are_cross_rates_through_eur(ecb_rates):
    day = fx.rates_for_day(ecb_rates, dt.date(2024, 1, 5), ["USD", "JPY", "GBP"])
    rates = fx.conversion_rates(day, "JPY")
    by_currency = dict(zip(rates["currency"], rates["x_fx_rate"], strict=True))
    assert by_currency["JPY"] == Decimal(1)
    assert by_currency["USD"] == reference_rate("158.57", "1.0921")
    assert by_currency["EUR"] == Decimal("158.57")
    assert by_currency["GBP"] == reference_rate("158.57", "0.8621")
    assert rates.schema == pl.Schema(fx.CONVERSION_SCHEMA)


def test_minor_units_from_iso_table():
    assert (fx.minor_units("JPY"), fx.minor_units("USD"), fx.minor_units("KWD")) == (0, 2, 3)
    with pytest.raises(fx.UnknownCurrencyError, match="XYZ"):
        fx.minor_units("XYZ")


@pytest.mark.parametrize(
    ("amount", "rate", "units", "expected"),
    [
        ("100.5", "1", 0, "101"),  # half-up, not half-even
        ("-100.5", "1", 0, "-101"),
        ("2.5", "1", 0, "3"),
        ("1234.5678", "0.006887179164", 0, "9"),  # JPY -> 0 decimals
        ("10.0000000001", "0.30815", 3, "3.082"),  # KWD -> 3 decimals
        ("-1.0005", "1", 3, "-1.001"),
        ("0.125", "1", 2, "0.13"),
    ],
)
def test_rounding_to_minor_units(amount, rate, units, expected):
    frame = pl.DataFrame({"a": [amount], "r": [rate]}).select(
        pl.col("a").cast(MONEY), pl.col("r").cast(fx.RATE)
    )
    out = frame.select(fx.convert_to_base_currency_expr(pl.col("a"), pl.col("r"), units))
    assert out.to_series().item() == Decimal(expected)
    assert out.schema.dtypes() == [MONEY]


def test_minor_units_as_expression_per_row():
    frame = pl.DataFrame({"a": ["1.2345", "1.2345", "1.2345"], "u": [0, 2, 3]}).with_columns(
        pl.col("a").cast(MONEY), r=pl.lit(Decimal(1)).cast(fx.RATE)
    )
    out = frame.select(fx.convert_to_base_currency_expr(pl.col("a"), pl.col("r"), pl.col("u")))
    assert out.to_series().to_list() == [Decimal("1"), Decimal("1.23"), Decimal("1.235")]


def random_amount(rng: random.Random) -> str:
    magnitude = rng.choice((1, 100, 10_000, 1_000_000, 1_000_000_000))
    units = rng.randrange(0, magnitude * 10**10)
    text = str(Decimal(units).scaleb(-10))
    return text if rng.random() < 0.7 else "-" + text


# The ECB publishes no KWD rate, so 3 decimals are exercised with GBP as base and KWD's units.
@pytest.mark.parametrize(("base", "units"), [("USD", 2), ("JPY", 0), ("GBP", 3)])
def test_random_rows_equal_python_decimal_reference_row_by_row(ecb_rates, base, units):
    rng = random.Random(20240105)
    rows = 1_000_000 if base == "USD" else 200_000
    wanted = ["USD", "JPY", "GBP", "IDR", "CHF", "HUF"]
    day = fx.rates_for_day(ecb_rates, dt.date(2024, 1, 6), wanted)
    per_eur = {r["currency"]: r["units_per_eur"] for r in day.iter_rows(named=True)}
    currencies = sorted(per_eur)
    amounts = [random_amount(rng) for _ in range(rows)]
    picked = [rng.choice(currencies) for _ in range(rows)]
    rates = fx.conversion_rates(day, base)
    frame = (
        pl.DataFrame({"amount": amounts, "currency": picked})
        .with_columns(pl.col("amount").cast(MONEY))
        .join(rates, on="currency", how="left", maintain_order="left")
    )
    assert units == (fx.minor_units(base) if base != "GBP" else fx.minor_units("KWD"))
    got = frame.select(
        fx.convert_to_base_currency_expr(pl.col("amount"), pl.col("x_fx_rate"), units)
    ).to_series()
    quantum = Decimal(1).scaleb(-units)
    ref_rate = {c: reference_rate(str(per_eur[base]), str(per_eur[c])) for c in currencies}
    ref_rate[base] = Decimal(1)
    expected = [
        (Decimal(a) * ref_rate[c]).quantize(quantum, rounding=ROUND_HALF_UP)
        for a, c in zip(amounts, picked, strict=True)
    ]
    mismatches = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert mismatches == [], f"{len(mismatches)} rows differ, first {mismatches[:5]}"
    assert sum(got, Decimal(0)) == sum(expected, Decimal(0))


def test_max_convertible_amount_keeps_products_inside_the_exact_scale():
    rate = Decimal("16234.567890123456")
    limit = fx.max_convertible_amount(rate)
    assert limit * rate < Decimal(10) ** 15 <= (limit + 1) * rate
    assert fx.max_convertible_amount(Decimal(1)) == Decimal(10) ** 15
    assert fx.max_convertible_amount(Decimal("0.000000000001")) == fx.MAX_AMOUNT
    frame = pl.DataFrame({"a": [str(limit)], "r": [str(rate)]}).select(
        pl.col("a").cast(MONEY), pl.col("r").cast(fx.RATE)
    )
    out = frame.select(fx.convert_to_base_currency_expr(pl.col("a"), pl.col("r"), 2)).item()
    assert out == (limit * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
