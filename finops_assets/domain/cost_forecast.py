"""Our month-end forecast of AWS spend next to AWS's own (Cost Explorer GetCostForecast).

Cost Explorer forecasts only from today on, so the two are compared for the live day: the charge
day `day` whose next day is today or later. AWS's month end is our month-to-date actual of the
AWS provider (x_effective_cost_base, through `day`) plus Cost Explorer's forecast of the rest of
the month ([day + 1, first of next month), metric AMORTIZED_COST, the basis of effective cost).
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import polars as pl

from finops_assets.domain.budgets import forecast_month_end
from finops_assets.domain.money import MONEY, quantize_half_up

AWS_PROVIDER = "aws"


class CostForecastError(ValueError):
    """A GetCostForecast answer we cannot read; the message names the field."""


@dataclass(frozen=True)
class ProviderForecast:
    """A provider's forecast of the rest of the month: amount and its currency."""

    remaining: Decimal
    currency: str


def forecast_period(day: date, today: date) -> tuple[date, date] | None:
    """[start, end) to ask Cost Explorer for the rest of `day`'s month; None if it cannot answer.

    None when no day of the month remains after `day`, or when `day + 1` is before today (Cost
    Explorer forecasts only from today on, and the days in between are already past).
    """
    start = day + timedelta(days=1)
    end = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    if start >= end or start < today:
        return None
    return start, end


def parse_cost_forecast(body: bytes) -> ProviderForecast:
    """Total.Amount and Total.Unit of a GetCostForecast response body, as an exact Decimal."""
    try:
        total = json.loads(body)["Total"]
        amount = Decimal(str(total["Amount"]))
        unit = str(total["Unit"])
    except (ValueError, KeyError, TypeError, InvalidOperation) as error:
        raise CostForecastError(
            f"GetCostForecast answer has no readable Total.Amount/Total.Unit: {error!r}"
        ) from error
    if not amount.is_finite():
        raise CostForecastError(f"GetCostForecast Total.Amount {amount} is not a number")
    return ProviderForecast(amount, unit)


def compare_forecasts(
    history: pl.DataFrame,
    day: date,
    base_currency: str,
    minor_units: int,
    provider: ProviderForecast | None,
    note: str,
) -> dict[str, str]:
    """Our AWS month-end forecast next to Cost Explorer's, as text for the UI (never floats).

    Each shown amount is computed exactly and rounded once, half-up, to `minor_units`.

    `history`: allocated cost rows (x_charge_date, x_provider, x_effective_cost_base) from
    before the month up to `day`. The difference is AWS's month end minus ours, shown only when
    AWS answers in the base currency.
    """
    rows = history.filter((pl.col("x_provider") == AWS_PROVIDER) & (pl.col("x_charge_date") <= day))
    daily_frame = rows.group_by("x_charge_date").agg(
        pl.col("x_effective_cost_base").cast(MONEY).sum()
    )
    daily = {d: Decimal(v) for d, v in daily_frame.iter_rows()}
    first = rows["x_charge_date"].min()
    ours, method = forecast_month_end(
        daily, day, first if isinstance(first, date) else None, minor_units
    )
    actual = sum((v for d, v in daily.items() if d >= day.replace(day=1)), Decimal(0))

    def money(amount: Decimal, currency: str = base_currency) -> str:
        return f"{quantize_half_up(amount, minor_units)} {currency}"

    shown = {
        "provider": AWS_PROVIDER,
        "actual_mtd": money(actual),
        "own_forecast_month_end": money(ours),
        "own_method": method,
        "cost_explorer_remaining": "",
        "cost_explorer_forecast_month_end": "",
        "difference": "",
        "note": note,
    }
    if provider is None:
        return shown
    shown["cost_explorer_remaining"] = money(provider.remaining, provider.currency)
    if provider.currency != base_currency:
        shown["note"] = f"Cost Explorer answers in {provider.currency}, not {base_currency}"
        return shown
    theirs = actual + provider.remaining
    shown["cost_explorer_forecast_month_end"] = money(theirs)
    shown["difference"] = money(theirs - ours)
    return shown
