"""Degenerate days through allocation and actuation: zero, all-credit, negative, empty, one row.

Each day must allocate without error, conserve every money column exactly, and give shares that
make sense (null where the day's total is zero, never a division by zero).
"""

import datetime as dt
from decimal import Decimal as D

import polars as pl
import pytest

from finops_assets.domain.allocate import allocate_costs
from finops_assets.domain.allocate_conservation import (
    allocation_coverage,
    conservation_violations,
    coverage_shares,
    coverage_sums,
)
from finops_assets.domain.anomalies import cost_anomalies
from finops_assets.domain.budgets import Budget, budget_status
from finops_assets.domain.commitments import commitment_recommendations
from finops_assets.domain.kpis import allocation_coverage as kpi_coverage
from finops_assets.domain.money import quantize_half_up
from finops_assets.domain.reporting import cost_by_business_unit, totals_match
from finops_assets.domain.rightsizing import rightsizing_recommendations
from finops_assets_tests.domain.test_allocate import DAY, RULES, frame
from finops_assets_tests.domain.test_rightsizing import CATALOG, costs, utilization

NAT = {"SubAccountId": "999", "ResourceId": "natgateway-1"}
# Rows as the sample and real bills give them: hierarchy, fixed-share and driver-split pools.
DEGENERATE_DAYS: dict[str, list[dict]] = {
    "zero_total": [
        {"cost": "5.00", "SubAccountId": "111"},
        {"cost": "-5.00", "SubAccountId": "222", "ChargeCategory": "Credit"},
    ],
    "zero_total_in_pools": [
        {"cost": "5.00", "SubAccountId": "998"},
        {"cost": "-5.00", "SubAccountId": "998", "ChargeCategory": "Credit"},
        {"cost": "3.00", **NAT},
        {"cost": "-3.00", **NAT, "ChargeCategory": "Credit"},
    ],
    "all_zero_rows": [
        {"cost": "0", "SubAccountId": "998"},
        {"cost": "0", **NAT},
        {"cost": "0", "SubAccountId": "000"},
    ],
    "all_credits": [
        {"cost": "-5.00", "SubAccountId": "111", "ChargeCategory": "Credit"},
        {"cost": "-2.00", "SubAccountId": "998", "ChargeCategory": "Credit"},
        {"cost": "-1.00", "SubAccountId": "997", "ChargeCategory": "Credit"},
        {"cost": "-1.01", **NAT, "ChargeCategory": "Credit"},
    ],
    "negative_total": [
        {"cost": "10.00", "SubAccountId": "111"},
        {"cost": "-30.00", "SubAccountId": "000", "ChargeCategory": "Credit"},
        {"cost": "0.03", "SubAccountId": "998"},
    ],
    "one_row": [{"cost": "0.01", "SubAccountId": "998"}],
    "one_row_zero": [{"cost": "0", "SubAccountId": "111"}],
    "empty": [],
}


@pytest.fixture(params=sorted(DEGENERATE_DAYS))
def day_rows(request) -> tuple[str, pl.DataFrame]:
    return request.param, frame([dict(r) for r in DEGENERATE_DAYS[request.param]])


def test_degenerate_day_allocates_and_conserves_every_money_column(day_rows) -> None:
    name, normalized = day_rows
    allocated = allocate_costs(normalized, RULES)
    assert conservation_violations(normalized, allocated).is_empty(), name
    for column in ("BilledCost", "EffectiveCost", "x_billed_cost_base", "x_effective_cost_base"):
        assert allocated[column].sum() == normalized[column].sum(), (name, column)
    assert allocated["x_source_row_key"].n_unique() == normalized.height


def test_degenerate_day_coverage_has_no_division_by_zero(day_rows) -> None:
    name, normalized = day_rows
    allocated = allocate_costs(normalized, RULES)
    coverage = allocation_coverage(allocated)
    total = allocated["x_effective_cost_base"].sum()
    assert coverage["rows"].sum() == allocated.height
    if allocated.is_empty() or total == 0:
        assert coverage["share"].null_count() == coverage.height, name
    else:
        assert coverage["share"].null_count() == 0, name
    # The same, summed chunk by chunk (the streamed path).
    halves = [coverage_sums(allocated.slice(0, 1)), coverage_sums(allocated.slice(1))]
    assert coverage_shares(pl.concat(halves)).equals(coverage)
    kpis = kpi_coverage(allocated)
    if total == 0 and not allocated.is_empty():
        assert kpis["share"].null_count() == kpis.height, name


def test_zero_total_day_has_null_shares_not_an_error() -> None:
    """The crash of issue 14: EffectiveCost summing to 0 divided by zero in coverage_shares."""
    normalized = frame([dict(r) for r in DEGENERATE_DAYS["zero_total"]])
    coverage = allocation_coverage(allocate_costs(normalized, RULES))
    assert coverage["x_effective_cost_base"].to_list() == [D(0)]
    assert coverage["share"].to_list() == [None]


def test_all_credit_day_shares_are_of_the_negative_total() -> None:
    normalized = frame([dict(r) for r in DEGENERATE_DAYS["all_credits"]])
    coverage = allocation_coverage(allocate_costs(normalized, RULES))
    shares = dict(zip(coverage["x_allocation_method"], coverage["share"], strict=True))
    assert shares["hierarchy"] == quantize_half_up(D("5.00") / D("9.01"), 18)
    assert all(s > 0 for s in shares.values())


def allocated_days(days: dict[dt.date, str]) -> pl.DataFrame:
    """The allocation of a degenerate day's rows, copied onto each of `days` (name of the day)."""
    frames = []
    for day, name in days.items():
        normalized = frame([dict(r, x_charge_date=day) for r in DEGENERATE_DAYS[name]])
        frames.append(allocate_costs(normalized, RULES))
    return pl.concat(frames)


@pytest.mark.parametrize("name", sorted(DEGENERATE_DAYS))
def test_degenerate_day_through_actuation(name: str) -> None:
    allocated = allocated_days({DAY - dt.timedelta(days=1): "one_row", DAY: name})
    today = allocated.filter(pl.col("x_charge_date") == DAY)
    report = cost_by_business_unit(today)
    assert totals_match(today, report) == []
    assert report["x_effective_cost_base"].sum() == today["x_effective_cost_base"].sum()
    budgets = [
        Budget("alpha", "business_unit", "alpha", D("100"), "USD", (50, 80, 100), "actual"),
        Budget("all", "provider", "aws", D("0.02"), "USD", (50, 100), "forecast"),
    ]
    status = budget_status(allocated, budgets, DAY)
    assert status.height == len(budgets)
    # DAY is the 1st: the day before is last month's, forecast history only.
    expected_mtd = today.filter(pl.col("x_provider") == "aws")["x_effective_cost_base"].sum()
    assert status.filter(pl.col("budget_id") == "all")["actual_mtd"].item() == expected_mtd
    anomalies = cost_anomalies(allocated, DAY)
    assert anomalies["score"].null_count() == 0


def test_negative_month_to_date_is_ok_not_over() -> None:
    allocated = allocated_days({DAY: "negative_total"})
    budgets = [Budget("all", "provider", "aws", D("100"), "USD", (50, 100), "actual")]
    [row] = budget_status(allocated, budgets, DAY).to_dicts()
    assert row["actual_mtd"] == D("-19.97")
    assert row["state"] == "ok" and row["highest_threshold_crossed_actual"] is None
    assert row["percent_of_budget_actual"] == D("-19.97")


@pytest.mark.parametrize("name", sorted(DEGENERATE_DAYS))
def test_degenerate_windows_give_sensible_commitments(name: str) -> None:
    """Degenerate windows: no division by zero, sensible coverage, nothing from no usage."""
    window = pl.concat(
        [
            frame([dict(r, x_charge_date=DAY - dt.timedelta(days=n)) for r in rows])
            for n in range(30)
            for rows in [DEGENERATE_DAYS[name]]
        ]
    ).with_columns(
        pl.format("{}-{}", "x_source_row_key", "x_charge_date").alias("x_source_row_key")
    )
    recommendations = commitment_recommendations(window, DAY)
    # Commitments follow gross compute usage: credits do not cancel it, no usage gives none.
    if name in {"all_credits", "all_zero_rows", "one_row_zero", "empty"}:
        assert recommendations.is_empty(), name
    for row in recommendations.iter_rows(named=True):
        assert 0 < row["expected_coverage"] <= 1 and row["estimated_monthly_savings"] > 0


@pytest.mark.parametrize("total", ["0", "-25.00", "1.00"])
def test_rightsizing_with_zero_or_credited_cost_falls_back_to_catalog_prices(total: str) -> None:
    """A resource whose allocated cost nets to zero or below never gets negative savings."""
    found = rightsizing_recommendations(utilization(7, 27.0, 35.0), costs(total), CATALOG, DAY)
    [row] = found.to_dicts()
    assert row["estimated_monthly_savings"] > 0
    if D(total) <= 0:
        assert row["observed_monthly_cost"] is None and row["currency"] == "USD"
    else:
        assert row["observed_monthly_cost"] == D("4.29")  # 1.00 over 7 days, per 30 days
