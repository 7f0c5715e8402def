"""Budget configuration and budget status: thresholds, forecast, state."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from finops_assets.domain.budgets import (
    BUDGET_STATUS_COLUMNS,
    Budget,
    BudgetConfigError,
    budget_status,
    load_budgets,
)
from finops_assets.domain.money import MONEY
from finops_assets.sample import estate

CONFIG = Path(__file__).resolve().parents[2] / "finops_assets" / "config" / "budgets.yaml"


def allocated(rows: list[tuple[date, str, str]]) -> pl.DataFrame:
    """Allocated cost rows (day, business unit, effective cost) with the columns budgets read."""
    return pl.DataFrame(
        {
            "x_charge_date": [r[0] for r in rows],
            "x_provider": ["aws"] * len(rows),
            "x_business_unit": [r[1] for r in rows],
            "ServiceName": ["Amazon EC2"] * len(rows),
            "ServiceCategory": ["Compute"] * len(rows),
            "ChargeCategory": ["Usage"] * len(rows),
            "x_base_currency": ["USD"] * len(rows),
            "x_billed_cost_base": [Decimal(r[2]) for r in rows],
            "x_effective_cost_base": [Decimal(r[2]) for r in rows],
            "x_allocation_method": ["tag"] * len(rows),
        },
        schema_overrides={
            "x_charge_date": pl.Date,
            "x_billed_cost_base": MONEY,
            "x_effective_cost_base": MONEY,
        },
    )


def budget(budget_id: str = "b", amount: str = "100", basis: str = "actual") -> Budget:
    return Budget(
        budget_id, "business_unit", "search", Decimal(amount), "USD", (50, 80, 100), basis
    )


def one_budget_yaml(**overrides: str) -> str:
    fields = {
        "id": "bu-search",
        "scope": "{kind: business_unit, value: search}",
        "amount": '"5000"',
        "currency": "USD",
        "thresholds": "[50, 80, 100]",
    }
    fields.update(overrides)
    body = "\n".join(f"    {key}: {value}" for key, value in fields.items())
    return "budgets:\n  - " + body.lstrip()


def test_shipped_config_loads_one_budget_per_business_unit() -> None:
    budgets = load_budgets(CONFIG.read_text(), "USD")
    units = {b.scope_value for b in budgets if b.scope_kind == "business_unit"}
    assert set(estate.BUSINESS_UNITS) | {estate.UNALLOCATED} == units
    marketing = next(b for b in budgets if b.scope_value == "marketing-web")
    assert (marketing.monthly_amount, marketing.enforcement) == (Decimal("50000"), "hard")
    assert {b.basis for b in budgets} == {"actual", "forecast"}
    assert any(b.scope_kind == "provider" and b.scope_value == "aws" for b in budgets)


def test_valid_budget_parses_amount_as_decimal() -> None:
    [parsed] = load_budgets(one_budget_yaml(amount='"1234.56"', basis="forecast"), "USD")
    assert parsed == Budget(
        "bu-search", "business_unit", "search", Decimal("1234.56"), "USD", (50, 80, 100), "forecast"
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"currency": "XYZ"}, "budget 'bu-search': unknown currency 'XYZ'"),
        ({"currency": "EUR"}, "budget 'bu-search': currency EUR differs from the base currency"),
        ({"thresholds": "[80, 50, 100]"}, "budget 'bu-search': thresholds [80, 50, 100] must be"),
        ({"thresholds": "[50, 50]"}, "strictly increasing"),
        ({"thresholds": "[0, 50]"}, "budget 'bu-search': threshold 0 must be a whole percent"),
        ({"thresholds": "[50, 1001]"}, "threshold 1001 must be a whole percent in (0, 1000]"),
        ({"thresholds": "[50.5]"}, "threshold 50.5"),
        ({"scope": "{kind: team, value: x}"}, "budget 'bu-search': scope kind 'team' is not one"),
        ({"amount": "5000.5"}, "budget 'bu-search': amount must be a quoted decimal string"),
        ({"amount": '"-1"'}, "amount must be positive"),
        ({"basis": "hope"}, "basis 'hope' is not one of"),
        ({"enforcement": "maybe"}, "enforcement 'maybe' is not one of"),
        ({"colour": "red"}, "unknown keys ['colour']"),
    ],
)
def test_invalid_budget_names_the_budget(override: dict[str, str], message: str) -> None:
    with pytest.raises(BudgetConfigError) as error:
        load_budgets(one_budget_yaml(**override), "USD")
    assert message in str(error.value)


def test_duplicate_ids_and_bad_document_are_rejected() -> None:
    text = one_budget_yaml()
    twice = text + "\n" + text.split("\n", 1)[1]
    with pytest.raises(BudgetConfigError, match="budget 'bu-search': duplicate id"):
        load_budgets(twice, "USD")
    with pytest.raises(BudgetConfigError, match="'budgets' list"):
        load_budgets("- 1\n- 2\n", "USD")


def test_thresholds_cross_on_the_right_day() -> None:
    rows = [(date(2026, 10, d), "search", "25") for d in range(1, 6)]
    rows.append((date(2026, 10, 2), "payments", "1000"))  # another scope: ignored
    frame = allocated(rows)
    seen = []
    for d in range(1, 6):
        status = budget_status(frame, [budget()], date(2026, 10, d)).row(0, named=True)
        seen.append(
            (status["actual_mtd"], status["highest_threshold_crossed_actual"], status["state"])
        )
    assert seen == [
        (Decimal("25"), None, "ok"),
        (Decimal("50"), 50, "warning"),  # exactly 50 % counts as crossed
        (Decimal("75"), 50, "warning"),
        (Decimal("100"), 100, "over"),
        (Decimal("125"), 100, "over"),
    ]


def test_seasonal_forecast_is_exact() -> None:
    """Day Sat 2026-10-10; window Sun 09-13 .. Sat 10-10 holds four of each weekday.

    Mon-Fri 10.00, Sat 4.00, Sun 2.00, but Mon 10-05 is 10.06: Monday mean 10.015.
    Remaining 10-11..10-31: 3 Mondays, 12 Tue-Fri, 3 Saturdays, 3 Sundays
    -> 30.045 + 120 + 12 + 6 = 168.045. Actual 10-01..10-10 = 80.06. 248.105 -> 248.11 (half-up).
    """
    weekday_cost = {5: "4.00", 6: "2.00"}
    rows = []
    start = date(2026, 9, 1)
    for n in range(41):
        day = start + timedelta(days=n)
        rows.append((day, "search", weekday_cost.get(day.weekday(), "10.00")))
    rows = [r for r in rows if r[0] not in (date(2026, 10, 5), date(2026, 9, 12))]
    rows += [(date(2026, 10, 5), "search", "10.06"), (date(2026, 9, 12), "search", "1000")]
    budgets = [budget("a", "300"), budget("f", "300", "forecast")]
    status = budget_status(allocated(rows), budgets, date(2026, 10, 10))
    assert status.schema == pl.Schema(BUDGET_STATUS_COLUMNS)
    a, f = status.rows(named=True)
    assert a["month"] == "2026-10"
    assert a["actual_mtd"] == Decimal("80.06")
    assert a["forecast_month_end"] == Decimal("248.11")
    assert a["forecast_method"] == "weekday_mean_28d"
    assert a["percent_of_budget_actual"] == Decimal("26.6867")
    assert a["percent_of_budget_forecast"] == Decimal("82.7033")
    assert (a["highest_threshold_crossed_actual"], a["highest_threshold_crossed_forecast"]) == (
        None,
        80,
    )
    assert (a["state"], f["state"]) == ("ok", "warning")


def test_short_history_falls_back_to_trailing_mean_with_half_up() -> None:
    """History 10-01..10-03 only: mean 3.045 / 3 = 1.015, x 28 days = 28.42; 31.465 -> 31.47."""
    rows = [
        (date(2026, 10, 1), "search", "1.000"),
        (date(2026, 10, 2), "search", "1.000"),
        (date(2026, 10, 3), "search", "1.045"),
        (date(2026, 10, 4), "search", "500"),  # after the day: ignored
    ]
    [row] = budget_status(allocated(rows), [budget()], date(2026, 10, 3)).rows(named=True)
    assert (row["forecast_month_end"], row["forecast_method"]) == (
        Decimal("31.47"),
        "trailing_daily_mean",
    )


def test_no_data_gives_zero_and_ok() -> None:
    [row] = budget_status(allocated([]), [budget()], date(2026, 10, 3)).rows(named=True)
    assert row["actual_mtd"] == Decimal(0) and row["forecast_month_end"] == Decimal(0)
    assert (row["forecast_method"], row["state"]) == ("no_history", "ok")


def test_scope_without_its_column_is_a_clear_error() -> None:
    project = Budget("p", "project", "x", Decimal(1), "USD", (100,))
    frame = allocated([(date(2026, 10, 1), "search", "1")])
    with pytest.raises(ValueError, match="budget 'p': allocated costs have no SubAccountId"):
        budget_status(frame, [project], date(2026, 10, 1))


def test_costs_in_another_base_currency_are_refused() -> None:
    frame = allocated([(date(2026, 10, 1), "search", "1")]).with_columns(
        pl.lit("EUR").alias("x_base_currency")
    )
    with pytest.raises(ValueError, match=r"budget 'b' is in USD but costs are in \['EUR'\]"):
        budget_status(frame, [budget()], date(2026, 10, 1))
