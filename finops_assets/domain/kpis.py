"""Pipeline KPIs over allocated cost: how much is allocated by which method, and cost per unit.

Costs are effective (amortized) cost in the base currency, x_effective_cost_base.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl

from finops_assets.domain.money import MONEY, quantize_half_up, split_largest_remainder

ALLOCATION_METHODS = ("tag", "hierarchy", "proportional", "unallocated")
SHARE = pl.Decimal(38, 6)
SHARE_SCALE = 6

ALLOCATION_COVERAGE_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "method": pl.Utf8(),
    "cost_base": MONEY,
    "share": SHARE,  # of the day's total cost; the day's shares add up to exactly 1
}

COST_BY_BUSINESS_UNIT_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "x_business_unit": pl.Utf8(),
    "x_provider": pl.Utf8(),
    "cost_base": MONEY,
}


def allocation_coverage(allocated: pl.DataFrame) -> pl.DataFrame:
    """Per day and allocation method: cost and share of the day's cost (every method listed).

    A null method counts as "unknown". Shares are Decimal at 6 places. When every method's cost is >= 0 and the day's total is
    positive they are split by largest remainder, so a day's shares add up to exactly 1; otherwise
    (credits outweighing charges) each is the half-up rounded ratio, or null for a zero total.
    """
    sums = (
        allocated.with_columns(pl.col("x_allocation_method").fill_null("unknown"))
        .group_by("x_charge_date", "x_allocation_method")
        .agg(pl.col("x_effective_cost_base").cast(MONEY).sum())
        .rows()
    )
    costs: dict[tuple, Decimal] = {(d, m): Decimal(v) for d, m, v in sums}
    extra = sorted({m for _, m in costs} - set(ALLOCATION_METHODS))
    methods = [*ALLOCATION_METHODS, *extra]
    rows: list[tuple[object, ...]] = []
    for day in sorted({d for d, _ in costs}):
        day_costs = [costs.get((day, method), Decimal(0)) for method in methods]
        shares = _shares(day_costs)
        rows.extend(zip([day] * len(methods), methods, day_costs, shares, strict=True))
    return pl.DataFrame(rows, schema=ALLOCATION_COVERAGE_COLUMNS, orient="row")


def _shares(costs: list[Decimal]) -> list[Decimal | None]:
    total = sum(costs, Decimal(0))
    if total > 0 and all(cost >= 0 for cost in costs):
        return list(split_largest_remainder(Decimal(1), costs, SHARE_SCALE))
    if total == 0:
        return [None] * len(costs)
    return [quantize_half_up(cost / total, SHARE_SCALE) for cost in costs]


def cost_by_business_unit(allocated: pl.DataFrame) -> pl.DataFrame:
    """Per day, business unit and provider: the effective cost in the base currency."""
    return (
        allocated.group_by("x_charge_date", "x_business_unit", "x_provider")
        .agg(pl.col("x_effective_cost_base").cast(MONEY).sum().alias("cost_base"))
        .sort("x_charge_date", "x_business_unit", "x_provider", nulls_last=True)
        .select(pl.col(name).cast(dtype) for name, dtype in COST_BY_BUSINESS_UNIT_COLUMNS.items())
    )


RATIO = pl.Decimal(38, 4)
KPI_VALUE_COLUMNS: dict[str, pl.DataType] = {
    "x_charge_date": pl.Date(),
    "kpi": pl.Utf8(),
    "scope": pl.Utf8(),
    "value": pl.Decimal(38, 6),
    "unit": pl.Utf8(),  # the base currency, "ratio" or "percent"
}
REALIZATION_COLUMNS: dict[str, pl.DataType] = {
    "resource_id": pl.Utf8(),
    "recommended_on": pl.Date(),
    "recommended_monthly_savings": MONEY,
    "realized_monthly_savings": MONEY,
    "realization": RATIO,
    "status": pl.Utf8(),  # pending | realized | not_realized
}
FORECAST_ACCURACY_COLUMNS: dict[str, pl.DataType] = {
    "budget_id": pl.Utf8(),
    "month": pl.Utf8(),
    "actual_month_end": MONEY,
    "forecast_on_15th": MONEY,
    "ape_on_15th": RATIO,  # |forecast - actual| / actual
    "mape_all_days": RATIO,  # mean APE of the forecasts of days 1 .. month end - 1
}


def pipeline_latency(fetched: dict[str, datetime | None], available_at: datetime) -> list[dict]:
    """Per source: export fetched time -> allocated availability, in whole seconds."""
    rows = []
    for source, fetched_at in sorted(fetched.items()):
        if fetched_at is None:
            continue
        seconds = int((available_at - fetched_at).total_seconds())
        rows.append({"source": source, "fetched_at": fetched_at.isoformat(), "latency_s": seconds})
    return rows


def _mean_daily(costs: pl.DataFrame, resource: str, first: date, last: date) -> Decimal:
    days = (last - first).days + 1
    total = costs.filter(
        (pl.col("ResourceId") == resource) & pl.col("x_charge_date").is_between(first, last)
    )["x_effective_cost_base"].sum()
    return Decimal(total or 0) / days


def savings_realization(
    recommendations: pl.DataFrame, costs: pl.DataFrame, day: date, window: int = 7
) -> pl.DataFrame:
    """Per rightsized resource: recommended vs realized monthly savings once billing shows it.

    The first recommendation of a resource (day r) is compared with billing: realized = 30 x
    (mean daily cost over the `window` days up to r - mean daily cost over the `window` days up
    to `day`), at least 0; "pending" until `window` days have passed since r.
    """
    rows: list[tuple[object, ...]] = []
    firsts = recommendations.sort("x_charge_date").unique("resource_id", keep="first")
    for rec in firsts.sort("resource_id").iter_rows(named=True):
        first_day, recommended = rec["x_charge_date"], Decimal(rec["estimated_monthly_savings"])
        if recommended <= 0:
            continue
        if (day - first_day).days < window:
            rows.append((rec["resource_id"], first_day, recommended, None, None, "pending"))
            continue
        before = _mean_daily(
            costs, rec["resource_id"], first_day - timedelta(window - 1), first_day
        )
        after = _mean_daily(costs, rec["resource_id"], day - timedelta(window - 1), day)
        realized = quantize_half_up(max(Decimal(0), (before - after) * 30), 2)
        ratio = quantize_half_up(realized / recommended, SHARE_SCALE - 2)
        status = "realized" if ratio >= Decimal("0.5") else "not_realized"
        rows.append((rec["resource_id"], first_day, recommended, realized, ratio, status))
    return pl.DataFrame(rows, schema=REALIZATION_COLUMNS, orient="row")


def forecast_accuracy(status: pl.DataFrame, day: date) -> pl.DataFrame:
    """At month end: each budget's forecasts of the month against the actual month-end spend.

    `status` holds budget_status rows of the month of `day`; empty unless `day` is its last day.
    """
    if (day + timedelta(days=1)).month == day.month:
        return pl.DataFrame(schema=FORECAST_ACCURACY_COLUMNS)
    rows = []
    for budget_id in sorted(set(status["budget_id"])):
        mine = status.filter(pl.col("budget_id") == budget_id).sort("x_charge_date")
        actual = Decimal(mine.filter(pl.col("x_charge_date") == day)["actual_mtd"].sum())
        earlier = mine.filter(pl.col("x_charge_date") < day)
        if actual <= 0 or earlier.is_empty():
            continue
        errors = {
            d: abs(Decimal(f) - actual) / actual
            for d, f in earlier.select("x_charge_date", "forecast_month_end").iter_rows()
        }
        mid = day.replace(day=15)
        forecast_mid = earlier.filter(pl.col("x_charge_date") == mid)["forecast_month_end"]
        rows.append(
            (budget_id, day.strftime("%Y-%m"), actual)
            + ((Decimal(forecast_mid[0]),) if forecast_mid.len() else (None,))
            + ((quantize_half_up(errors[mid], 4),) if mid in errors else (None,))
            + (quantize_half_up(sum(errors.values(), Decimal(0)) / len(errors), 4),)
        )
    return pl.DataFrame(rows, schema=FORECAST_ACCURACY_COLUMNS, orient="row")


def sparkline(values: list[float]) -> str:
    """A unicode sparkline of `values` (for a chart in markdown metadata)."""
    bars = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(bars[int((v - low) / span * (len(bars) - 1))] for v in values)


def kpi_values(realization: pl.DataFrame, accuracy: pl.DataFrame, day: date, currency: str):
    """The day's KPI rows (KPI_VALUE_COLUMNS): savings realization totals, forecast errors."""
    rows: list[tuple[object, ...]] = []
    done = realization.filter(pl.col("status") != "pending")
    if done.height:
        recommended = Decimal(done["recommended_monthly_savings"].sum())
        realized = Decimal(done["realized_monthly_savings"].sum())
        rows += [
            (day, "savings_recommended_monthly", "all", recommended, currency),
            (day, "savings_realized_monthly", "all", realized, currency),
            (
                day,
                "savings_realization",
                "all",
                quantize_half_up(realized / recommended, 6),
                "ratio",
            ),
        ]
    for row in accuracy.iter_rows(named=True):
        if row["ape_on_15th"] is not None:
            rows.append(
                (day, "forecast_ape_on_15th", row["budget_id"], row["ape_on_15th"], "ratio")
            )
        rows.append((day, "forecast_mape", row["budget_id"], row["mape_all_days"], "ratio"))
    return pl.DataFrame(rows, schema=KPI_VALUE_COLUMNS, orient="row")
