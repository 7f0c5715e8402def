"""The FinOps report's other sections: budgets, anomalies, recommendations, commitments, freshness.

Each function takes the lake table of its section (already limited to the billing month) and
returns a small frame with plain column names; money stays Decimal.
"""

import datetime as dt

import polars as pl

from finops_assets.domain.money import MONEY

_RATIO = pl.Decimal(38, 4)


def budget_progress(status: pl.DataFrame) -> pl.DataFrame:
    """Per budget and day: budget, actual month-to-date and forecast, for the budget chart."""
    return status.select(
        pl.col("x_charge_date").alias("day"),
        pl.col("budget_id").alias("budget"),
        pl.col("budget_amount").alias("budget_amount"),
        pl.col("actual_mtd").alias("actual"),
        pl.col("forecast_month_end").alias("forecast"),
    ).sort("budget", "day")


def budget_latest(status: pl.DataFrame, thresholds: dict[str, tuple[int, ...]]) -> pl.DataFrame:
    """Per budget, its last day in the month: amount, actual, forecast, percents, thresholds, state."""
    if status.is_empty():
        return pl.DataFrame()
    last = status.sort("x_charge_date").group_by("budget_id").last()
    return last.select(
        pl.col("budget_id").alias("budget"),
        (pl.col("scope_kind") + pl.lit(": ") + pl.col("scope_value")).alias("scope"),
        pl.col("x_charge_date").alias("as_of"),
        pl.col("budget_amount").alias("budget_amount"),
        pl.col("actual_mtd").alias("actual"),
        pl.col("forecast_month_end").alias("forecast"),
        pl.col("percent_of_budget_actual").alias("actual_percent"),
        pl.col("percent_of_budget_forecast").alias("forecast_percent"),
        pl.col("budget_id")
        .replace_strict(
            {k: ", ".join(f"{t} %" for t in v) for k, v in thresholds.items()},
            default="",
            return_dtype=pl.Utf8,
        )
        .alias("thresholds"),
        "state",
    ).sort("budget")


def anomaly_rows(anomalies: pl.DataFrame) -> pl.DataFrame:
    """Anomalies with expected against actual spend (billing currency), most recent first."""
    if anomalies.is_empty():
        return pl.DataFrame()
    return anomalies.select(
        pl.col("x_charge_date").alias("day"),
        pl.col("x_business_unit").alias("business unit"),
        pl.col("ServiceName").alias("service"),
        pl.col("BillingCurrency").alias("currency"),
        "expected",
        "actual",
        "deviation",
        "direction",
    ).sort(["day", "business unit", "service"], descending=[True, False, False])


def latest_day(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of the frame's last charge day (recommendation tables hold one set a day)."""
    if frame.is_empty():
        return frame
    return frame.filter(pl.col("x_charge_date") == pl.col("x_charge_date").max())


def rightsizing_rows(recommendations: pl.DataFrame) -> pl.DataFrame:
    """The latest rightsizing recommendations, largest monthly saving first."""
    latest = latest_day(recommendations)
    if latest.is_empty():
        return pl.DataFrame()
    return latest.select(
        pl.col("x_provider").alias("provider"),
        pl.col("resource_id").alias("resource"),
        pl.col("x_business_unit").alias("business unit"),
        pl.col("current_size").alias("current size"),
        pl.col("recommended_size").alias("recommended size"),
        pl.col("observed_monthly_cost").alias("monthly cost"),
        pl.col("estimated_monthly_savings").alias("monthly savings"),
        "currency",
    ).sort(["monthly savings", "resource"], descending=[True, False])


def commitment_rows(recommendations: pl.DataFrame) -> pl.DataFrame:
    """The latest commitment purchase recommendations with their savings, coverage, utilization."""
    latest = latest_day(recommendations)
    if latest.is_empty():
        return pl.DataFrame()
    return latest.select(
        pl.col("x_provider").alias("provider"),
        pl.col("commitment_type").alias("commitment"),
        pl.col("term_months").alias("term (months)"),
        pl.col("hourly_commitment").alias("hourly commitment"),
        pl.col("estimated_monthly_savings").alias("monthly savings"),
        pl.col("expected_coverage").alias("expected coverage"),
        pl.col("expected_utilization").alias("expected utilization"),
        pl.col("owned_commitments").alias("commitments owned"),
        "currency",
    ).sort(["monthly savings", "provider"], descending=[True, False])


def commitment_coverage(normalized: pl.DataFrame) -> pl.DataFrame:
    """Per provider: how much compute usage commitments covered, and how much of them was used.

    Usage rows only (credits and purchases are not usage):
    coverage = amortized compute usage under a commitment / all amortized compute usage;
    utilization = used commitment cost / (used + unused) commitment cost (FOCUS
    CommitmentDiscountStatus). Null where there is nothing to divide by.
    """
    usage_rows = normalized.filter(pl.col("ChargeCategory") == "Usage")
    compute = usage_rows.filter(pl.col("ServiceCategory") == "Compute")
    committed = pl.col("CommitmentDiscountId").is_not_null()
    status = pl.col("CommitmentDiscountStatus")
    coverage = compute.group_by("x_provider").agg(
        pl.col("x_effective_cost_base").sum().cast(MONEY).alias("compute usage"),
        pl.col("x_effective_cost_base").filter(committed).sum().cast(MONEY).alias("covered"),
    )
    usage = (
        usage_rows.filter(committed)
        .group_by("x_provider")
        .agg(
            pl.col("x_effective_cost_base")
            .filter(status == "Used")
            .sum()
            .cast(MONEY)
            .alias("used"),
            pl.col("x_effective_cost_base")
            .filter(status == "Unused")
            .sum()
            .cast(MONEY)
            .alias("unused"),
        )
    )
    joined = coverage.join(usage, on="x_provider", how="full", coalesce=True).fill_null(0)
    ratio = _ratio(pl.col("covered"), pl.col("compute usage"))
    used = _ratio(pl.col("used"), pl.col("used") + pl.col("unused"))
    return joined.select(
        pl.col("x_provider").alias("provider"),
        pl.col("compute usage").cast(MONEY),
        pl.col("covered").cast(MONEY),
        ratio.alias("coverage"),
        pl.col("used").cast(MONEY).alias("commitment used"),
        pl.col("unused").cast(MONEY).alias("commitment unused"),
        used.alias("utilization"),
    ).sort("provider")


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator at 4 places, half-up, null when the denominator is 0."""
    exact = numerator.cast(pl.Decimal(38, 20)) / denominator.cast(pl.Decimal(38, 10))
    rounded = exact.round(4, mode="half_away_from_zero").cast(_RATIO)
    return pl.when(denominator != 0).then(rounded)


def freshness(
    raw_days: dict[str, pl.DataFrame],
    quarantine: pl.DataFrame,
    first: dt.date,
    last: dt.date,
) -> pl.DataFrame:
    """Per billing source: days with data out of the days so far, last fetch, rows, quarantined.

    raw_days maps a source to its raw rows' (x_charge_date, x_fetched_at) within first..last.
    """
    expected = (last - first).days + 1
    rows = []
    for source, frame in sorted(raw_days.items()):
        bad = quarantine.filter(pl.col("x_source") == source)
        days = frame["x_charge_date"].n_unique() if frame.height else 0
        latest = frame["x_fetched_at"].max() if frame.height else None
        last_day = frame["x_charge_date"].max() if frame.height else None
        rows.append(
            {
                "source": source,
                "days with data": f"{days} of {expected}",
                "missing days": expected - days,
                "last charge day": str(last_day) if last_day else "none",
                "last fetched (UTC)": str(latest)[:19] if latest else "never",
                "rows": frame.height,
                "quarantined rows": bad.height,
            }
        )
    return pl.DataFrame(rows)
