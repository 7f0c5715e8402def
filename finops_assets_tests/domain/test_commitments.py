"""Commitment recommendations: low-percentile baseline, coverage, savings, break-even, net of owned."""

import datetime as dt
from decimal import Decimal

import polars as pl

from finops_assets.domain.commitments import (
    CommitmentOffer,
    commitment_recommendations,
    low_percentile,
)
from finops_assets.domain.money import MONEY

DAY = dt.date(2026, 10, 10)
AWS_SP = CommitmentOffer("aws", "Compute Savings Plan", 12, Decimal("0.27"))
COLUMNS = ("x_charge_date", "x_provider", "ChargeCategory", "ServiceCategory")
COLUMNS += ("PricingCategory", "CommitmentDiscountId", "x_effective_cost_base")


def rows(spend: list[str], **overrides: object) -> list[tuple]:
    """One AWS on-demand compute row per day ending on DAY, oldest first."""
    days = [DAY - dt.timedelta(days=n) for n in range(len(spend))][::-1]
    base = {"x_provider": "aws", "ChargeCategory": "Usage", "ServiceCategory": "Compute"}
    base |= {"PricingCategory": "Standard", "CommitmentDiscountId": None} | overrides
    return [
        (d, *(base[c] for c in COLUMNS[1:6]), Decimal(s)) for d, s in zip(days, spend, strict=True)
    ]


def frame(all_rows: list[tuple]) -> pl.DataFrame:
    schema = dict.fromkeys(COLUMNS, pl.Utf8()) | {
        "x_charge_date": pl.Date(),
        "x_effective_cost_base": MONEY,
    }
    return pl.DataFrame(all_rows, schema=schema, orient="row")


def test_low_percentile_is_nearest_rank() -> None:
    values = [Decimal(v) for v in ("100", "50", "75", "60")]
    assert low_percentile(values, 10) == Decimal("50")
    assert low_percentile(values, 50) == Decimal("60")


def test_baseline_coverage_savings_and_break_even_are_exact() -> None:
    spend = ["50"] + ["100"] * 9
    [row] = commitment_recommendations(frame(rows(spend)), DAY, 10, 10, [AWS_SP]).to_dicts()
    assert row["baseline_daily_on_demand"] == Decimal("50.00")
    assert row["hourly_commitment"] == Decimal("1.520833")  # 50 * 0.73 / 24
    assert row["expected_coverage"] == Decimal("0.5263")  # 500 / 950
    assert row["expected_utilization"] == Decimal("1.0000")
    assert row["estimated_monthly_savings"] == Decimal("405.00")  # (500 - 365) * 30 / 10
    assert row["break_even_month"] == 9  # 36.5 * 360 = 13140 prepaid / 1500 a month
    assert row["currency"] == "USD"


def test_covered_usage_and_other_spend_are_not_eligible() -> None:
    covered = rows(["400"] * 10, CommitmentDiscountId="arn:aws:savingsplans::1:savingsplan/x")
    storage = rows(["900"] * 10, ServiceCategory="Storage")
    reserved = rows(["900"] * 10, PricingCategory="Committed")
    history = frame(rows(["50"] + ["100"] * 9) + covered + storage + reserved)
    [row] = commitment_recommendations(history, DAY, 10, 10, [AWS_SP]).to_dicts()
    assert row["baseline_daily_on_demand"] == Decimal("50.00")  # the owned SP's usage is net out
    assert row["owned_commitments"] == 1 and row["covered_daily_cost"] == Decimal("400.00")


def test_missing_days_count_as_zero_and_spiky_spend_commits_only_its_floor() -> None:
    assert commitment_recommendations(frame(rows(["100"] * 5)), DAY, 10).is_empty()
    spiky = frame(rows(["1", "1000"] * 5))
    offers = [CommitmentOffer("aws", "Compute Savings Plan", 12, Decimal("0.27"))]
    found = commitment_recommendations(spiky, DAY, 10, 10, offers)
    assert found["estimated_monthly_savings"].to_list() == [Decimal("8.10")]  # (10 - 7.3) * 3
