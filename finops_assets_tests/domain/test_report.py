"""The report's figures on small frames: exact sums, run rate, unallocated, showback, formatting."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain import report, report_sections
from finops_assets.domain.money import MONEY
from finops_assets.domain.report_format import format_money, format_ratio, text_rows

D = Decimal


def _allocated(rows: list[tuple]) -> pl.DataFrame:
    """rows: (day, provider, unit, service, resource, method, billed, effective)."""
    return pl.DataFrame(
        {
            "x_charge_date": [r[0] for r in rows],
            "x_provider": [r[1] for r in rows],
            "x_business_unit": [r[2] for r in rows],
            "ServiceName": [r[3] for r in rows],
            "ServiceCategory": ["Compute"] * len(rows),
            "ChargeCategory": ["Usage"] * len(rows),
            "SubAccountId": ["111"] * len(rows),
            "ResourceId": [r[4] for r in rows],
            "x_base_currency": ["USD"] * len(rows),
            "x_billed_cost_base": [D(r[6]) for r in rows],
            "x_effective_cost_base": [D(r[7]) for r in rows],
            "x_allocation_method": [r[5] for r in rows],
        },
        schema_overrides={"x_billed_cost_base": MONEY, "x_effective_cost_base": MONEY},
    )


OCT1, OCT2, OCT3 = dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 3)
ROWS = _allocated(
    [
        (OCT1, "aws", "payments", "EC2", "i-1", "tag", "10.00", "8.00"),
        (OCT1, "aws", "search", "EC2", "i-2", "tag", "1000.01", "1000.01"),
        (OCT2, "gcp", "payments", "GCE", None, "unallocated", "0.10", "0.10"),
        (OCT2, "aws", "unallocated", "S3", "b-1", "unallocated", "5.55", "5.55"),
        (OCT3, "aws", "unallocated", "S3", "b-2", "unallocated", "0.01", "0.01"),
    ]
)


def test_daily_and_monthly_cost_are_exact_sums_with_plain_names():
    daily = report.daily_cost(ROWS, "business unit")
    assert daily.columns == ["day", "business unit", "cost"]
    assert daily.filter(pl.col("day") == OCT1)["cost"].sum() == D("1008.01")
    monthly = report.monthly_cost(ROWS, "provider")
    assert monthly.rows() == [("aws", D("1015.57"), D("1013.57")), ("gcp", D("0.10"), D("0.10"))]
    assert monthly["amortized"].sum() == ROWS["x_effective_cost_base"].sum()


def test_month_to_date_compares_the_same_days_and_rounds_the_run_rate_half_up():
    last = _allocated(
        [
            (dt.date(2026, 9, 1), "aws", "payments", "EC2", "i-1", "tag", "2", "2"),
            (dt.date(2026, 9, 2), "aws", "payments", "EC2", "i-1", "tag", "3", "3"),
            (dt.date(2026, 9, 30), "aws", "payments", "EC2", "i-1", "tag", "100", "100"),
        ]
    )
    mtd = report.month_to_date(ROWS, last, OCT2, 2)
    assert mtd.month_to_date == D("1013.66")  # Oct 1 and 2 only
    assert mtd.last_month_same_days == D("5")
    assert mtd.last_month_total == D("105")
    assert mtd.run_rate == D("15711.73")  # 1013.66 / 2 days * 31 days
    small = _allocated([(OCT1, "aws", "payments", "EC2", "i-1", "tag", "0.15", "0.15")])
    # 0.15 / 2 * 31 = 2.325: half-up gives 2.33 (half-to-even would give 2.32)
    assert report.month_to_date(small, last, OCT2, 2).run_rate == D("2.33")
    assert mtd.change == D("201.7320")
    assert report.month_to_date(ROWS, last.clear(), OCT2, 2).change is None


def test_billed_vs_amortized_per_day():
    frame = report.billed_vs_amortized(ROWS)
    assert frame.row(0) == (OCT1, D("1010.01"), D("1008.01"), D("2.00"))
    assert frame["billed"].sum() == ROWS["x_billed_cost_base"].sum()


def test_unallocated_cost_and_its_resources():
    unallocated, total, share = report.unallocated_summary(ROWS)
    assert (unallocated, total) == (D("5.66"), D("1013.67"))
    assert share == D("0.0056")
    top = report.unallocated_resources(ROWS, top=2)
    assert top["resource"].to_list() == ["b-1", report.NO_RESOURCE]
    assert top["cost"].to_list() == [D("5.55"), D("0.10")]


def test_showback_is_per_month_and_unit_at_minor_units_and_refuses_sub_cent_amounts():
    frame = report.showback(ROWS, 2)
    assert frame.schema["billed_cost"] == pl.Decimal(38, 2)
    assert set(frame["month"]) == {"2026-10"}
    assert frame["amortized_cost"].sum() == D("1013.67")
    assert "x_business_unit" not in frame.columns
    bad = ROWS.with_columns(pl.lit(D("0.001")).cast(MONEY).alias("x_billed_cost_base"))
    with pytest.raises(ValueError, match="not in whole minor units"):
        report.showback(bad, 2)


def test_money_is_shown_in_minor_units_with_thousands_separators():
    assert format_money(D("1234567.5"), 2) == "1,234,567.50"
    assert format_money(D("0.005"), 2) == "0.01"  # half-up
    assert format_money(D("-0.004"), 2) == "0.00"  # never "-0.00"
    assert format_money(D("1234.5"), 0) == "1,235"  # JPY
    assert format_money(D("0E-10"), 2) == "0.00"
    assert format_ratio(D("0.12345")) == "12.35 %"
    rows = text_rows(pl.DataFrame({"n": [1200], "amount": [D("1.5")]}), 3)
    assert rows == [{"n": "1,200", "amount": "1.500"}]


def test_commitment_coverage_and_utilization_from_usage_rows():
    normalized = pl.DataFrame(
        {
            "x_provider": ["aws", "aws", "aws", "aws", "gcp"],
            "ChargeCategory": ["Usage", "Usage", "Usage", "Credit", "Usage"],
            "ServiceCategory": ["Compute"] * 5,
            "CommitmentDiscountId": ["sp-1", "sp-1", None, "sp-1", None],
            "CommitmentDiscountStatus": ["Used", "Unused", None, "Used", None],
            "x_effective_cost_base": [D("30"), D("10"), D("60"), D("-5"), D("7")],
        },
        schema_overrides={"x_effective_cost_base": MONEY},
    )
    frame = report_sections.commitment_coverage(normalized)
    aws = frame.row(0, named=True)
    assert aws["coverage"] == D("0.4000")  # 40 of 100 under a commitment; the credit is no usage
    assert aws["utilization"] == D("0.7500")  # 30 used of 40
    assert frame.row(1, named=True)["utilization"] is None


def test_freshness_counts_days_with_data_and_quarantined_rows():
    raw = {
        "aws_cur": pl.DataFrame(
            {
                "x_charge_date": [OCT1, OCT1, OCT3],
                "x_fetched_at": [dt.datetime(2026, 10, 4, 8, tzinfo=dt.UTC)] * 3,
            }
        ),
        "azure_cost": pl.DataFrame(schema={"x_charge_date": pl.Date, "x_fetched_at": pl.Datetime}),
    }
    quarantine = pl.DataFrame({"x_charge_date": [OCT1], "x_source": ["azure_cost"]})
    frame = report_sections.freshness(raw, quarantine, OCT1, OCT3)
    assert frame.row(0, named=True)["days with data"] == "2 of 3"
    assert frame.row(0, named=True)["missing days"] == 1
    assert frame.row(1, named=True)["last fetched (UTC)"] == "never"
    assert frame.row(1, named=True)["quarantined rows"] == 1
