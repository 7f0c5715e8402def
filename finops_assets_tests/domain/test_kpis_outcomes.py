"""FinOps KPIs beyond coverage: latency, savings realization, forecast accuracy, the chart."""

import datetime as dt
from decimal import Decimal

import polars as pl

from finops_assets.domain.budgets import BUDGET_STATUS_COLUMNS
from finops_assets.domain.kpis import (
    KPI_VALUE_COLUMNS,
    forecast_accuracy,
    kpi_values,
    pipeline_latency,
    savings_realization,
    sparkline,
)
from finops_assets.domain.money import MONEY
from finops_assets.domain.rightsizing import RIGHTSIZING_COLUMNS

OCT = [dt.date(2026, 10, d) for d in range(1, 32)]


def recommendation(day: dt.date, resource: str, savings: str) -> dict:
    row = dict.fromkeys(RIGHTSIZING_COLUMNS)
    return row | {
        "x_charge_date": day,
        "resource_id": resource,
        "estimated_monthly_savings": Decimal(savings),
    }


def daily_costs(resource: str, before: str, after: str, switch: dt.date) -> list[tuple]:
    return [(d, resource, Decimal(before if d < switch else after)) for d in OCT]


def test_pipeline_latency_is_fetched_to_available_in_seconds() -> None:
    fetched = dt.datetime(2026, 10, 2, 6, 0, tzinfo=dt.UTC)
    rows = pipeline_latency(
        {"aws_cur": fetched, "azure_cost": None}, fetched + dt.timedelta(hours=2)
    )
    assert rows == [{"source": "aws_cur", "fetched_at": fetched.isoformat(), "latency_s": 7200}]


def test_savings_realization_compares_billing_before_and_after() -> None:
    recs = pl.DataFrame(
        [
            recommendation(OCT[9], "i-acted", "300"),
            recommendation(OCT[10], "i-acted", "300"),  # later repeats do not move the start
            recommendation(OCT[9], "i-ignored", "150"),
            recommendation(OCT[27], "i-new", "90"),
        ],
        schema=RIGHTSIZING_COLUMNS,
    )
    costs = pl.DataFrame(
        daily_costs("i-acted", "20", "10", OCT[12]) + daily_costs("i-ignored", "10", "10", OCT[0]),
        schema={
            "x_charge_date": pl.Date(),
            "ResourceId": pl.Utf8(),
            "x_effective_cost_base": MONEY,
        },
        orient="row",
    )
    found = savings_realization(recs, costs, OCT[30]).to_dicts()
    assert [(r["resource_id"], r["status"]) for r in found] == [
        ("i-acted", "realized"),
        ("i-ignored", "not_realized"),
        ("i-new", "pending"),
    ]
    assert found[0]["realized_monthly_savings"] == Decimal("300.00")  # (20 - 10) * 30
    assert found[0]["realization"] == Decimal("1.0000")
    assert found[1]["realized_monthly_savings"] == Decimal("0.00")
    values = kpi_values(
        pl.DataFrame(found), pl.DataFrame(schema={"budget_id": pl.Utf8()}), OCT[30], "USD"
    )
    assert values.schema == pl.Schema(KPI_VALUE_COLUMNS)
    assert dict(zip(values["kpi"], values["value"], strict=True)) == {
        "savings_recommended_monthly": Decimal("450"),
        "savings_realized_monthly": Decimal("300"),
        "savings_realization": Decimal("0.666667"),
    }


def test_forecast_accuracy_only_at_month_end() -> None:
    rows = []
    for d in OCT:
        row = dict.fromkeys(BUDGET_STATUS_COLUMNS)
        forecast = "3000" if d.day < 15 else "3100"
        rows.append(
            row
            | {
                "x_charge_date": d,
                "budget_id": "b",
                "actual_mtd": Decimal(100 * d.day),
                "forecast_month_end": Decimal(forecast),
            }
        )
    status = pl.DataFrame(rows, schema=BUDGET_STATUS_COLUMNS)
    assert forecast_accuracy(status.filter(pl.col("x_charge_date") <= OCT[29]), OCT[29]).is_empty()
    [row] = forecast_accuracy(status, OCT[30]).to_dicts()
    assert row["actual_month_end"] == Decimal("3100") and row["forecast_on_15th"] == Decimal("3100")
    assert row["ape_on_15th"] == Decimal("0.0000")
    assert row["mape_all_days"] == Decimal("0.0151")  # 14 days at 100/3100 off, 16 exact: / 30


def test_sparkline_spans_low_to_high() -> None:
    assert sparkline([1.0, 2.0, 3.0]) == "▁▄█" and sparkline([]) == ""
