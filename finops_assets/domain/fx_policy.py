"""FX policy of a rule set: each day's own rate, or one locked rate per month ("constant currency").

`fx: {policy: daily}` (the default) keeps the base-currency amounts normalize converted with
the day's ECB rate. `fx: {policy: month_locked, rate_day: first_business_day |
previous_month_end}` re-converts every row of a month with one rate: the ECB rates of the
month's first published day (TARGET holidays and weekends have none), or of the last published
day of the month before. The allocated stage converts before it allocates, so its conservation
check holds exactly under the policy's own rates; billed-currency amounts are never touched.
Every allocated row records the rate, the rate's day and its source.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from finops_assets.domain import fx

DAILY = "daily"
MONTH_LOCKED = "month_locked"
RATE_DAYS = ("first_business_day", "previous_month_end")
SOURCE = "ECB eurofxref"
# What each allocated row records about its conversion (x_fx_rate: billing -> base currency).
FX_RECORD_COLUMNS: dict[str, pl.DataType] = {
    "x_fx_rate": fx.RATE,
    "x_fx_rate_date": pl.Date(),
    "x_fx_rate_source": pl.Utf8(),
}
FxRateMissingError = fx.FxRateMissingError
_MONEY_PAIRS = {"BilledCost": "x_billed_cost_base", "EffectiveCost": "x_effective_cost_base"}


@dataclass(frozen=True)
class FxPolicy:
    """How a rule set converts billed amounts to the base currency."""

    policy: str = DAILY
    rate_day: str | None = None  # month_locked only

    @property
    def locked(self) -> bool:
        """True for a month-locked ("constant currency") policy."""
        return self.policy == MONTH_LOCKED

    def source(self, day: dt.date) -> str:
        """The label each row records as its rate's source."""
        if not self.locked:
            return f"{SOURCE}, daily (fx_rates)"
        return f"{SOURCE}, {MONTH_LOCKED} {self.rate_day} {day:%Y-%m}"


DAILY_POLICY = FxPolicy()


def parse_fx_policy(raw: Any) -> FxPolicy:
    """The rules file's `fx` mapping as an FxPolicy; absent means daily. ValueError names it."""
    if raw is None:
        return DAILY_POLICY
    if not isinstance(raw, dict) or raw.get("policy") not in (DAILY, MONTH_LOCKED):
        raise ValueError(f"fx: policy must be {DAILY} or {MONTH_LOCKED}, got {raw!r}")
    rate_day = raw.get("rate_day")
    if raw["policy"] == DAILY:
        if rate_day is not None:
            raise ValueError("fx: rate_day only applies to policy month_locked")
        return DAILY_POLICY
    rate_day = rate_day or RATE_DAYS[0]
    if rate_day not in RATE_DAYS:
        raise ValueError(f"fx: rate_day must be one of {RATE_DAYS}, got {rate_day!r}")
    return FxPolicy(MONTH_LOCKED, rate_day)


def locked_rate_day(rates: pl.DataFrame, day: dt.date, policy: FxPolicy) -> dt.date:
    """The ECB publication day whose rates every day of `day`'s month is converted with.

    first_business_day: the month's first day with published rates (may come after `day`);
    previous_month_end: the last published day before the month. A month whose day is not
    published yet raises FxRateMissingError (the day waits for it, nothing is guessed).
    """
    first = day.replace(day=1)
    published = rates.get_column("rate_date")
    if policy.rate_day == "previous_month_end":
        found = published.filter(published < first).max()
    else:
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        found = published.filter((published >= first) & (published < nxt)).min()
    if not isinstance(found, dt.date):
        raise FxRateMissingError(
            f"no ECB rate published for {policy.rate_day} of {day:%Y-%m} yet "
            f"({MONTH_LOCKED}, charge day {day.isoformat()})"
        )
    return found


def month_locked_rates(
    rates: pl.DataFrame,
    day: dt.date,
    policy: FxPolicy,
    currencies: Iterable[str],
    base_currency: str,
    lookback_days: int = 7,
) -> pl.DataFrame:
    """The month's locked rates into `base_currency`: [currency, x_fx_rate, x_fx_rate_date, source].

    The same cross rates as the daily path (fx.conversion_rates, half-up at 12 decimals), taken
    on the locked day instead of the charge day, so every day of a month gets the same frame.
    """
    locked_day = locked_rate_day(rates, day, policy)
    day_rates = fx.rates_for_day(rates, locked_day, {*currencies, base_currency}, lookback_days)
    conversion = fx.conversion_rates(day_rates, base_currency)
    return conversion.with_columns(x_fx_rate_source=pl.lit(policy.source(day), pl.Utf8()))


def apply_fx_policy(
    normalized: pl.DataFrame,
    policy: FxPolicy,
    locked: pl.DataFrame | None,
    base_currency: str,
) -> pl.DataFrame:
    """Normalized rows with their base amounts under `policy` and the FX_RECORD_COLUMNS set.

    daily: amounts, x_fx_rate and x_fx_rate_date as normalize wrote them, plus the source.
    month_locked: `locked` (month_locked_rates) re-converts BilledCost and EffectiveCost,
    ROUND_HALF_UP to the base currency's minor units; billed amounts are unchanged.
    """
    if not policy.locked:
        kept = [
            (pl.col(c) if c in normalized.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in FX_RECORD_COLUMNS.items()
            if c != "x_fx_rate_source"
        ]
        return normalized.with_columns(
            *kept, x_fx_rate_source=pl.lit(policy.source(dt.date.min), pl.Utf8())
        )
    if locked is None:
        raise ValueError("month_locked needs the month's locked rates")
    rates = locked.select(
        pl.col("currency").alias("BillingCurrency"),
        *[pl.col(c).cast(t) for c, t in FX_RECORD_COLUMNS.items()],
    )
    _check_rates(normalized, rates)
    units = fx.minor_units(base_currency)
    joined = normalized.drop([c for c in FX_RECORD_COLUMNS if c in normalized.columns]).join(
        rates, on="BillingCurrency", how="left", maintain_order="left"
    )
    return joined.with_columns(
        x_base_currency=pl.lit(base_currency, pl.Utf8()),
        **{
            base: fx.convert_to_base_currency_expr(pl.col(src), pl.col("x_fx_rate"), units)
            for src, base in _MONEY_PAIRS.items()
        },
    )


def _check_rates(normalized: pl.DataFrame, rates: pl.DataFrame) -> None:
    """Every billing currency has a locked rate, and every amount converts exactly at it."""
    currencies = set(normalized["BillingCurrency"].drop_nulls().unique().to_list())
    missing = sorted(currencies - set(rates["BillingCurrency"].to_list()))
    if missing:
        days = normalized["x_charge_date"].drop_nulls().unique().sort().to_list()
        raise FxRateMissingError(
            f"no locked rate for {', '.join(missing)} "
            f"(charge days {', '.join(d.isoformat() for d in days)})"
        )
    for row in rates.iter_rows(named=True):
        limit = fx.max_convertible_amount(row["x_fx_rate"])
        rows = normalized.filter(pl.col("BillingCurrency") == row["BillingCurrency"])
        for column in _MONEY_PAIRS:
            too_large = rows.filter(pl.col(column).abs() > limit)
            if too_large.height:
                key = too_large["x_source_row_key"][0]
                raise ValueError(
                    f"row {key}: {column} {too_large[column][0]} {row['BillingCurrency']} does "
                    f"not convert exactly at the locked rate {row['x_fx_rate']}"
                )


def at_recorded_rates(source: pl.DataFrame, allocated: pl.DataFrame) -> pl.DataFrame:
    """Normalized rows in the base currency the way `allocated` converted them.

    A day allocated under month_locked recorded its locked rate on every row: the source is
    re-converted with those rates, so its totals can be compared with the allocation's exactly.
    A daily allocation used normalize's own amounts: the source is returned as it is.
    """
    recorded = allocated.filter(pl.col("x_fx_rate_source").str.contains(MONTH_LOCKED))
    if recorded.is_empty():
        return source
    rates = recorded.select(pl.col("BillingCurrency").alias("currency"), *FX_RECORD_COLUMNS).unique(
        maintain_order=True
    )
    base = str(recorded["x_base_currency"][0])
    return apply_fx_policy(source, FxPolicy(MONTH_LOCKED, RATE_DAYS[0]), rates, base)
