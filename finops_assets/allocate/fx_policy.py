"""The rule version's FX policy applied to the normalized rows allocated_costs reads.

Daily keeps normalize's conversion; month_locked re-converts each row with its month's locked
rate, taken from the same ECB history fx_rates uses (the shipped seed, completed from the ECB
feed when it is on), read once per run and only when a day needs it.
"""

import datetime as dt
from collections.abc import Callable

import polars as pl

from finops_assets.domain.fx_policy import FxPolicy, apply_fx_policy, month_locked_rates
from finops_assets.resources.reference import FxRatesResource

Convert = Callable[[pl.DataFrame], pl.DataFrame]


class LockedRates:
    """The ECB history, loaded on first use, for the run's days."""

    def __init__(self, rates: FxRatesResource, days: list[dt.date]) -> None:
        self._rates, self._days = rates, days
        self._history: pl.DataFrame | None = None

    def history(self) -> pl.DataFrame:
        if self._history is None:
            self._history = self._rates.history(self._days)[0]
        return self._history

    def converter(self, policy: FxPolicy, day: dt.date, base_currency: str) -> Convert:
        """Rows of `day` -> rows under `policy` (amounts, rate, rate day and source per row)."""
        if not policy.locked:
            return lambda rows: apply_fx_policy(rows, policy, None, base_currency)

        def convert(rows: pl.DataFrame) -> pl.DataFrame:
            currencies = rows["BillingCurrency"].drop_nulls().unique().to_list()
            locked = month_locked_rates(
                self.history(), day, policy, currencies, base_currency, self._rates.lookback_days
            )
            return apply_fx_policy(rows, policy, locked, base_currency)

        return convert
