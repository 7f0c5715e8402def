"""Currency conversion to the base currency through ECB euro reference rates, exact to the unit."""

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal, localcontext

import polars as pl

from finops_assets.domain.money import MONEY, quantize_half_up
from finops_assets.domain.reference import ECB_RATES_FILE, minor_units_table, reference_text

RATE_SCALE = 12
RATE = pl.Decimal(38, RATE_SCALE)
# MONEY scale 10 + rate scale 12: the product of an amount and a rate is exact at this scale.
# Decimal(38, 22) leaves 16 integer digits, so a converted amount must stay below 1e16 units of
# the base currency (see `max_convertible_amount`; Polars raises on overflow, never wraps).
CONVERT_SCALE = 22
CONVERT = pl.Decimal(38, CONVERT_SCALE)
MAX_CONVERTED = Decimal(10) ** 15  # conservative bound used by the guard below
MAX_AMOUNT = Decimal(10) ** 27  # what MONEY = Decimal(38, 10) can hold, rounded down
_ECB_SCALE = pl.Decimal(38, RATE_SCALE)
EURO = "EUR"

RATES_SCHEMA = {"rate_date": pl.Date(), "currency": pl.Utf8(), "units_per_eur": RATE}
DAY_RATES_SCHEMA = {
    "x_charge_date": pl.Date(),
    "currency": pl.Utf8(),
    "units_per_eur": RATE,
    "x_fx_rate_date": pl.Date(),
}
CONVERSION_SCHEMA = {"currency": pl.Utf8(), "x_fx_rate": RATE, "x_fx_rate_date": pl.Date()}


class FxRateMissingError(LookupError):
    """No published rate for a currency within the lookback window before a day."""


class UnknownCurrencyError(KeyError):
    """A currency code that is not in the ISO 4217 table."""


def load_ecb_rates(csv_text: str) -> pl.DataFrame:
    """ECB eurofxref CSV text -> long rates [rate_date, currency, units_per_eur]; EUR is 1."""
    wide = pl.read_csv(csv_text.encode("utf-8"), infer_schema=False)
    wide = wide.rename({name: name.strip() for name in wide.columns})
    currencies = [c for c in wide.columns if c and c != "Date" and not c.startswith("_")]
    long = wide.unpivot(index="Date", on=currencies, variable_name="currency", value_name="value")
    value = pl.col("value").str.strip_chars()
    rates = long.filter(value.is_not_null() & (value != "") & (value != "N/A")).select(
        pl.col("Date").str.strip_chars().str.to_date("%Y-%m-%d").alias("rate_date"),
        pl.col("currency"),
        value.cast(_ECB_SCALE, strict=True).alias("units_per_eur"),
    )
    euro = (
        rates.select("rate_date")
        .unique()
        .with_columns(currency=pl.lit(EURO), units_per_eur=pl.lit(Decimal(1)).cast(RATE))
    )
    return pl.concat([rates, euro]).sort("rate_date", "currency").cast(RATES_SCHEMA)  # type: ignore[arg-type]


def load_shipped_ecb_rates() -> pl.DataFrame:
    """The ECB history shipped in finops_assets/reference, as load_ecb_rates returns it."""
    return load_ecb_rates(reference_text(ECB_RATES_FILE))


def rates_for_day(
    rates: pl.DataFrame, day: dt.date, currencies: Iterable[str], lookback_days: int = 7
) -> pl.DataFrame:
    """Each currency's latest rate published on or before `day`, within `lookback_days`.

    Weekends and TARGET holidays have no rate: the last earlier one is used, and its day is kept
    in x_fx_rate_date. A currency with no rate in the window raises FxRateMissingError.
    """
    wanted = sorted(set(currencies) | {EURO})
    earliest = day - dt.timedelta(days=lookback_days)
    window = rates.filter(
        pl.col("currency").is_in(wanted) & pl.col("rate_date").is_between(earliest, day)
    )
    latest = (
        window.sort("rate_date")
        .group_by("currency", maintain_order=True)
        .last()
        .select(
            pl.lit(day, dtype=pl.Date()).alias("x_charge_date"),
            "currency",
            "units_per_eur",
            pl.col("rate_date").alias("x_fx_rate_date"),
        )
        .sort("currency")
    )
    missing = sorted(set(wanted) - set(latest["currency"].to_list()))
    if missing:
        raise FxRateMissingError(
            f"no ECB rate for {', '.join(missing)} on {day.isoformat()} "
            f"or in the {lookback_days} days before"
        )
    return latest.cast(DAY_RATES_SCHEMA)  # type: ignore[arg-type]


def cross_rate(units_per_eur_base: Decimal, units_per_eur_currency: Decimal) -> Decimal:
    """rate(C->B) = units_per_eur[B] / units_per_eur[C], rounded half-up to 12 decimals."""
    # 60 significant digits: ECB rates have at most ~12 digits, so the half-up decision at the
    # 12th decimal is the same as on the exact quotient (no double rounding).
    with localcontext() as ctx:
        ctx.prec = 60
        return quantize_half_up(units_per_eur_base / units_per_eur_currency, RATE_SCALE)


def conversion_rates(day_rates: pl.DataFrame, base_currency: str) -> pl.DataFrame:
    """Rates from each currency to `base_currency` through EUR [currency, x_fx_rate, x_fx_rate_date].

    Definition (the Python reference uses exactly this): rate(C->B) = units_per_eur[B] /
    units_per_eur[C], the exact quotient rounded ROUND_HALF_UP to 12 decimals
    (Python decimal at 60 digits, see cross_rate); rate(B->B) = 1 exactly. x_fx_rate_date is the later of the
    two publication days used. Computed in Python over the day's few dozen currencies (reference
    data, not per cost row).
    """
    per_eur = {
        row["currency"]: (row["units_per_eur"], row["x_fx_rate_date"])
        for row in day_rates.iter_rows(named=True)
    }
    if base_currency not in per_eur:
        raise FxRateMissingError(f"no rate for base currency {base_currency} in the day's rates")
    base_rate, base_date = per_eur[base_currency]
    rows = []
    for currency, (rate, rate_date) in sorted(per_eur.items()):
        value = Decimal(1) if currency == base_currency else cross_rate(base_rate, rate)
        rows.append((currency, value, max(rate_date, base_date)))
    return pl.DataFrame(rows, schema=CONVERSION_SCHEMA, orient="row")


def minor_units(currency: str) -> int:
    """ISO 4217 minor units of a currency (JPY 0, USD 2, KWD 3); unknown codes raise."""
    try:
        return minor_units_table()[currency]
    except KeyError:
        raise UnknownCurrencyError(f"unknown ISO 4217 currency code {currency!r}") from None


def is_known_currency_expr(currency: pl.Expr) -> pl.Expr:
    """True where the code is in the shipped ISO 4217 table (null and unknown -> False)."""
    return currency.is_in(list(minor_units_table())).fill_null(False)


def max_convertible_amount(rate: Decimal) -> Decimal:
    """Largest |amount| that converts exactly at `rate`: the product stays below 1e15 units."""
    if rate <= 0:
        return MAX_AMOUNT
    with localcontext() as ctx:
        ctx.prec = 60
        return min(MAX_AMOUNT, (MAX_CONVERTED / rate).to_integral_value(rounding=ROUND_FLOOR))


def convert_to_base_currency_expr(
    amount: pl.Expr, rate: pl.Expr, minor_units: int | pl.Expr
) -> pl.Expr:
    """amount * rate, exact at scale 22, then ROUND_HALF_UP to the base's minor units, as MONEY.

    `minor_units` is an int (one base currency) or an expression of ints 0..4 per row.
    Amounts whose product reaches 1e16 overflow Decimal(38, 22): guard with max_convertible_amount.
    """
    product = amount.cast(CONVERT) * rate.cast(CONVERT)
    if isinstance(minor_units, int):
        return product.round(minor_units, mode="half_away_from_zero").cast(MONEY)
    result: pl.Expr = pl.lit(None, dtype=CONVERT)
    for units in (4, 3, 2, 1, 0):
        rounded = product.round(units, mode="half_away_from_zero")
        result = pl.when(minor_units == units).then(rounded).otherwise(result)
    return result.cast(MONEY)


def day_rates_version(day_rates: pl.DataFrame) -> str:
    """A stable fingerprint of one day's rates (currency, rate, publication day), 16 hex digits.

    Same rates -> same version, in any row order; any changed, added or removed rate -> a new
    one. The fx_rates asset records it per partition as the Dagster data version.
    """
    canonical = day_rates.select(
        pl.col("currency"),
        pl.col("units_per_eur").cast(RATE).cast(pl.Utf8),
        pl.col("x_fx_rate_date").cast(pl.Utf8),
    ).sort("currency")
    text = "\n".join(",".join(row) for row in canonical.iter_rows())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
