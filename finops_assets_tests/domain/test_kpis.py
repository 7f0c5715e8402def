"""Pipeline KPIs: allocation coverage shares and cost per business unit, in Decimal."""

from datetime import date
from decimal import Decimal

import polars as pl

from finops_assets.domain.kpis import (
    ALLOCATION_COVERAGE_COLUMNS,
    COST_BY_BUSINESS_UNIT_COLUMNS,
    allocation_coverage,
    cost_by_business_unit,
)
from finops_assets.domain.money import MONEY

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)


def allocated(rows: list[tuple[date, str, str, str, str]]) -> pl.DataFrame:
    """Rows of (day, provider, business unit, allocation method, effective cost)."""
    return pl.DataFrame(
        {
            "x_charge_date": [r[0] for r in rows],
            "x_provider": [r[1] for r in rows],
            "x_business_unit": [r[2] for r in rows],
            "x_allocation_method": [r[3] for r in rows],
            "x_effective_cost_base": [Decimal(r[4]) for r in rows],
        },
        schema_overrides={"x_charge_date": pl.Date, "x_effective_cost_base": MONEY},
    )


FRAME = allocated(
    [
        (D1, "aws", "search", "tag", "1"),
        (D1, "aws", "search", "tag", "0.5"),
        (D1, "gcp", "payments", "hierarchy", "1"),
        (D1, "aws", "unallocated", "unallocated", "0.5"),
        (D2, "aws", "search", "proportional", "2"),
        (D2, "aws", "search", "tag", "-2"),
        (D2, "gcp", "search", "tag", "1"),
    ]
)


def test_allocation_coverage_lists_every_method_with_exact_shares() -> None:
    coverage = allocation_coverage(FRAME)
    assert coverage.schema == pl.Schema(ALLOCATION_COVERAGE_COLUMNS)
    assert coverage.filter(pl.col("x_charge_date") == D1).rows() == [
        (D1, "tag", Decimal("1.5"), Decimal("0.5")),
        (D1, "hierarchy", Decimal("1"), Decimal("0.333333")),
        (D1, "proportional", Decimal("0"), Decimal("0")),
        (D1, "unallocated", Decimal("0.5"), Decimal("0.166667")),
    ]
    day1 = coverage.filter(pl.col("x_charge_date") == D1)["share"].to_list()
    assert sum(day1, Decimal(0)) == Decimal(1)


def test_allocation_coverage_with_a_negative_method_uses_plain_ratios() -> None:
    day2 = allocation_coverage(FRAME).filter(pl.col("x_charge_date") == D2)
    assert dict(zip(day2["method"], day2["share"], strict=True)) == {
        "tag": Decimal("-1"),
        "hierarchy": Decimal("0"),
        "proportional": Decimal("2"),
        "unallocated": Decimal("0"),
    }


def test_allocation_coverage_of_a_zero_day_has_null_shares() -> None:
    zero = allocated([(D1, "aws", "search", "tag", "1"), (D1, "aws", "search", "tag", "-1")])
    assert allocation_coverage(zero)["share"].null_count() == 4


def test_cost_by_business_unit_sums_per_day_unit_and_provider() -> None:
    costs = cost_by_business_unit(FRAME)
    assert costs.schema == pl.Schema(COST_BY_BUSINESS_UNIT_COLUMNS)
    assert costs.rows() == [
        (D1, "payments", "gcp", Decimal("1")),
        (D1, "search", "aws", Decimal("1.5")),
        (D1, "unallocated", "aws", Decimal("0.5")),
        (D2, "search", "aws", Decimal("0")),
        (D2, "search", "gcp", Decimal("1")),
    ]
