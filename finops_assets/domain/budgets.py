"""Budgets: the configuration teams write, and where each budget stands on a charge day.

A budget caps the monthly effective cost (amortized, in the base currency) of one scope: a
business unit, a provider, a service or a project. Its thresholds (percent of the monthly amount)
raise events when the actual month-to-date spend, or the month-end forecast, reaches them.
"""

from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import polars as pl

from finops_assets.domain.money import MONEY, quantize_half_up
from finops_assets.domain.reference import minor_units_table
from finops_assets.domain.strict_yaml import StrictYamlError, load_strict_yaml

SCOPE_COLUMNS = {
    "business_unit": "x_business_unit",
    "provider": "x_provider",
    "service": "ServiceName",
    "project": "SubAccountId",
}
BASES = ("actual", "forecast")
ENFORCEMENTS = ("none", "soft", "hard")
STATES = ("ok", "warning", "over")
HISTORY_DAYS = 28
MIN_SEASONAL_DAYS = 7
PERCENT = pl.Decimal(38, 4)
PERCENT_SCALE = 4

BUDGET_STATUS_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "budget_id": pl.Utf8(),
    "scope_kind": pl.Utf8(),
    "scope_value": pl.Utf8(),
    "month": pl.Utf8(),  # YYYY-MM
    "budget_amount": MONEY,
    "actual_mtd": MONEY,
    "forecast_month_end": MONEY,
    "forecast_method": pl.Utf8(),
    "percent_of_budget_actual": PERCENT,
    "percent_of_budget_forecast": PERCENT,
    "highest_threshold_crossed_actual": pl.Int32(),
    "highest_threshold_crossed_forecast": pl.Int32(),
    "state": pl.Utf8(),
}

_REQUIRED_KEYS = {"id", "scope", "amount", "currency", "thresholds"}
_ALLOWED_KEYS = _REQUIRED_KEYS | {"basis", "enforcement", "description"}


class BudgetConfigError(ValueError):
    """The budgets file is invalid; the message names the budget and what is wrong."""


@dataclass(frozen=True)
class Budget:
    """A monthly spending cap on one scope, with alert thresholds in percent."""

    id: str
    scope_kind: str
    scope_value: str
    monthly_amount: Decimal
    currency: str
    thresholds: tuple[int, ...]
    basis: str = "actual"
    enforcement: str = "none"


def load_budgets(text: str, base_currency: str) -> list[Budget]:
    """Parse and validate a budgets YAML document (`budgets:` list); errors name the budget."""
    try:
        document = load_strict_yaml(text, "budgets file")
    except StrictYamlError as error:
        raise BudgetConfigError(str(error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("budgets"), list):
        raise BudgetConfigError("budgets file must be a mapping with a 'budgets' list")
    budgets: list[Budget] = []
    for position, entry in enumerate(document["budgets"], start=1):
        budget = _parse_budget(entry, position, base_currency)
        if any(b.id == budget.id for b in budgets):
            raise BudgetConfigError(f"budget {budget.id!r}: duplicate id")
        budgets.append(budget)
    return budgets


def _parse_budget(entry: Any, position: int, base_currency: str) -> Budget:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        raise BudgetConfigError(f"budget #{position}: must be a mapping with a non-empty 'id'")
    name = f"budget {entry['id']!r}"
    missing = sorted(_REQUIRED_KEYS - entry.keys())
    unknown = sorted(entry.keys() - _ALLOWED_KEYS)
    if missing or unknown:
        raise BudgetConfigError(f"{name}: missing keys {missing}, unknown keys {unknown}")
    scope = entry["scope"]
    if not isinstance(scope, dict) or set(scope) != {"kind", "value"}:
        raise BudgetConfigError(f"{name}: scope must be a mapping with exactly 'kind' and 'value'")
    if scope["kind"] not in SCOPE_COLUMNS:
        raise BudgetConfigError(
            f"{name}: scope kind {scope['kind']!r} is not one of {sorted(SCOPE_COLUMNS)}"
        )
    if not isinstance(scope["value"], str) or not scope["value"]:
        raise BudgetConfigError(f"{name}: scope value must be a non-empty string")
    basis = entry.get("basis", "actual")
    enforcement = entry.get("enforcement", "none")
    if basis not in BASES:
        raise BudgetConfigError(f"{name}: basis {basis!r} is not one of {list(BASES)}")
    if enforcement not in ENFORCEMENTS:
        raise BudgetConfigError(
            f"{name}: enforcement {enforcement!r} is not one of {list(ENFORCEMENTS)}"
        )
    return Budget(
        id=entry["id"],
        scope_kind=scope["kind"],
        scope_value=scope["value"],
        monthly_amount=_parse_amount(name, entry["amount"]),
        currency=_parse_currency(name, entry["currency"], base_currency),
        thresholds=_parse_thresholds(name, entry["thresholds"]),
        basis=basis,
        enforcement=enforcement,
    )


def _shown(value: Any) -> str:
    """A value as the file wrote it (a YAML number is read as an exact Decimal)."""
    return str(value) if isinstance(value, Decimal) else repr(value)


def _parse_amount(name: str, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise BudgetConfigError(
            f"{name}: amount must be a quoted decimal string, got {_shown(raw)}"
        )
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BudgetConfigError(f"{name}: amount {raw!r} is not a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise BudgetConfigError(f"{name}: amount must be positive, got {raw!r}")
    return amount


def _parse_currency(name: str, raw: Any, base_currency: str) -> str:
    if not isinstance(raw, str) or raw not in minor_units_table():
        raise BudgetConfigError(f"{name}: unknown currency {raw!r} (not an ISO 4217 code)")
    if raw != base_currency:
        raise BudgetConfigError(
            f"{name}: currency {raw} differs from the base currency {base_currency}; "
            "budgets must be set in the base currency"
        )
    return raw


def _parse_thresholds(name: str, raw: Any) -> tuple[int, ...]:
    if not isinstance(raw, list) or not raw:
        raise BudgetConfigError(f"{name}: thresholds must be a non-empty list of percents")
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1000:
            raise BudgetConfigError(
                f"{name}: threshold {_shown(value)} must be a whole percent in (0, 1000]"
            )
    if any(later <= earlier for earlier, later in zip(raw, raw[1:], strict=False)):
        raise BudgetConfigError(f"{name}: thresholds {raw} must be strictly increasing")
    return tuple(raw)


def forecast_month_end(
    daily: Mapping[date, Decimal], day: date, history_start: date | None, minor_units: int
) -> tuple[Decimal, str]:
    """Month-end spend forecast for `day`: (amount rounded half-up to minor units, method).

    Method "weekday_mean_28d" (a trailing run rate with day-of-week seasonality): the history is
    the trailing 28 days ending on `day` (inclusive, across month boundaries), cut at
    `history_start`, the first day the data covers (None: no data); days without spend count as
    zero. With at least 7 days of history, each remaining day d of the month (day+1 .. month end)
    is projected as the mean spend of the history days on d's weekday, and forecast = actual_mtd
    + the sum of those projections. With 1 to 6 days of history ("trailing_daily_mean") every
    remaining day is projected as the mean of the history days. With none ("no_history")
    forecast = actual_mtd.
    All in Decimal; one half-up rounding at the end.
    """
    month_start = day.replace(day=1)
    actual = sum((v for d, v in daily.items() if month_start <= d <= day), Decimal(0))
    last_day = day.replace(day=monthrange(day.year, day.month)[1])
    remaining = [day + timedelta(days=n) for n in range(1, (last_day - day).days + 1)]
    history: list[date] = []
    if history_start is not None:
        first = max(day - timedelta(days=HISTORY_DAYS - 1), history_start)
        history = [first + timedelta(days=n) for n in range((day - first).days + 1)]
    with localcontext() as ctx:
        ctx.prec = 60
        if not history:
            return quantize_half_up(actual, minor_units), "no_history"
        if len(history) >= MIN_SEASONAL_DAYS:
            by_weekday: dict[int, list[Decimal]] = {}
            for d in history:
                by_weekday.setdefault(d.weekday(), []).append(daily.get(d, Decimal(0)))
            projected = sum(
                (_mean(by_weekday[d.weekday()]) for d in remaining),
                Decimal(0),
            )
            method = "weekday_mean_28d"
        else:
            projected = _mean([daily.get(d, Decimal(0)) for d in history]) * len(remaining)
            method = "trailing_daily_mean"
        return quantize_half_up(actual + projected, minor_units), method


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def budget_status(
    allocated_month_to_date: pl.DataFrame, budgets: Sequence[Budget], day: date
) -> pl.DataFrame:
    """Where each budget stands on `day`: month-to-date actual, forecast, thresholds, state.

    Actual is the sum of x_effective_cost_base of the budget's scope from the first of the month
    up to and including `day`; rows after `day` are ignored and rows before the month serve as
    forecast history (see `forecast_month_end`). A threshold t is crossed when spend >= t% of
    the amount (exact comparison). State: "over" when actual >= 100%, "warning" when a threshold
    is crossed on the budget's basis (actual or forecast), otherwise "ok".
    """
    window_start = min(day.replace(day=1), day - timedelta(days=HISTORY_DAYS - 1))
    upto = allocated_month_to_date.filter(pl.col("x_charge_date") <= day)
    first_day = upto["x_charge_date"].min()
    history_start = first_day if isinstance(first_day, date) else None
    window = upto.filter(pl.col("x_charge_date") >= window_start)
    currencies = set(window.get_column("x_base_currency", default=pl.Series([None])).drop_nulls())
    rows = []
    for budget in budgets:
        if currencies - {budget.currency}:
            raise ValueError(
                f"budget {budget.id!r} is in {budget.currency} but costs are in {sorted(currencies)}"
            )
        daily = _daily_costs(window, budget)
        minor_units = minor_units_table().get(budget.currency, 2)
        forecast, method = forecast_month_end(daily, day, history_start, minor_units)
        actual = sum((v for d, v in daily.items() if d >= day.replace(day=1)), Decimal(0))
        rows.append(_status_row(budget, day, actual, forecast, method))
    return pl.DataFrame(rows, schema=BUDGET_STATUS_COLUMNS, orient="row")


def _daily_costs(window: pl.DataFrame, budget: Budget) -> dict[date, Decimal]:
    column = SCOPE_COLUMNS[budget.scope_kind]
    if column not in window.columns:
        raise ValueError(
            f"budget {budget.id!r}: allocated costs have no {column} column "
            f"for scope kind {budget.scope_kind!r}"
        )
    daily = (
        window.filter(pl.col(column) == budget.scope_value)
        .group_by("x_charge_date")
        .agg(pl.col("x_effective_cost_base").cast(MONEY).sum())
    )
    return {d: Decimal(v) for d, v in daily.iter_rows()}


def highest_threshold_crossed(
    spend: Decimal, amount: Decimal, thresholds: Sequence[int]
) -> int | None:
    """The highest threshold t (percent) with spend >= t% of amount, or None."""
    crossed = [t for t in thresholds if spend * 100 >= amount * t]
    return max(crossed) if crossed else None


def _percent(spend: Decimal, amount: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return quantize_half_up(spend * 100 / amount, PERCENT_SCALE)


def _status_row(
    budget: Budget, day: date, actual: Decimal, forecast: Decimal, method: str
) -> tuple[object, ...]:
    amount = budget.monthly_amount
    crossed_actual = highest_threshold_crossed(actual, amount, budget.thresholds)
    crossed_forecast = highest_threshold_crossed(forecast, amount, budget.thresholds)
    on_basis = crossed_actual if budget.basis == "actual" else crossed_forecast
    if actual >= amount:
        state = "over"
    elif on_basis is not None:
        state = "warning"
    else:
        state = "ok"
    return (
        day,
        budget.id,
        budget.scope_kind,
        budget.scope_value,
        day.strftime("%Y-%m"),
        amount,
        actual,
        forecast,
        method,
        _percent(actual, amount),
        _percent(forecast, amount),
        crossed_actual,
        crossed_forecast,
        state,
    )
