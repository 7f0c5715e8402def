"""The FinOps report page of one billing month: self-contained HTML (plotly.js inlined, no network).

Sections follow what FinOps hubs, CUDOS and Kubecost open with. Every table is marked with
`data-figure` so a test can read each figure and reconcile it with the lake.
"""

import html

import plotly.offline

from finops_assets.domain import report, report_sections
from finops_assets.domain.report_format import format_money, format_ratio
from finops_assets.report import charts
from finops_assets.report.inputs import ReportInputs, money_rows, section, table


def trend_section(inputs: ReportInputs) -> str:
    """Cost trend by business unit, provider and service: daily charts and monthly tables."""
    parts = []
    for dimension, kind in (("business unit", "bar"), ("provider", "line"), ("service", "bar")):
        daily = report.daily_cost(inputs.allocated, dimension)
        slug = dimension.replace(" ", "-")
        title = f"Daily amortized cost by {dimension} ({inputs.currency})"
        figure = charts.stacked_daily(daily, dimension, inputs.minor_units, kind)
        parts.append(charts.figure_html(figure, f"daily-by-{slug}", title, inputs.currency))
        monthly = report.monthly_cost(inputs.allocated, dimension)
        parts.append(f"<h3>{html.escape(dimension.capitalize())}: month total</h3>")
        parts.append(table(f"cost-by-{slug}", money_rows(monthly, inputs), "no cost"))
    return section("trend", "Cost trend", *parts)


def month_to_date_section(inputs: ReportInputs) -> str:
    """Month-to-date against the same days of last month, and the run rate."""
    mtd = report.month_to_date(
        inputs.allocated, inputs.allocated_last_month, inputs.as_of, inputs.minor_units
    )
    money = lambda v: format_money(v, inputs.minor_units)  # noqa: E731
    rows = [
        {
            "as of": str(mtd.as_of),
            "days elapsed": f"{mtd.days_elapsed} of {mtd.days_in_month}",
            "month to date": money(mtd.month_to_date),
            "last month, same days": money(mtd.last_month_same_days),
            "change": format_ratio(mtd.change),
            "last month, total": money(mtd.last_month_total),
            "run rate (month)": money(mtd.run_rate),
        }
    ]
    series = {}
    for name, frame in (
        ("this month", inputs.allocated),
        ("last month", inputs.allocated_last_month),
    ):
        daily = report.billed_vs_amortized(frame)
        running = daily["amortized"].cum_sum().to_list()
        series[name] = ([str(d.day) for d in daily["day"]], running)
    figure = charts.lines(series, inputs.minor_units)
    title = f"Cumulative amortized cost by day of month ({inputs.currency})"
    chart = charts.figure_html(figure, "month-to-date", title, inputs.currency)
    return section(
        "month-to-date",
        "Month to date, last month and run rate",
        table("month-to-date", rows, "no cost"),
        chart,
    )


def budget_section(inputs: ReportInputs) -> str:
    """Budget against actual and forecast, with each budget's thresholds."""
    latest = report_sections.budget_latest(inputs.budget_status, inputs.thresholds)
    if latest.is_empty():
        return section("budgets", "Budgets", table("budgets", [], "no budget status"))
    names = latest["budget"].to_list()
    figure = charts.grouped_bars(
        names,
        {
            "budget": latest["budget_amount"].to_list(),
            "actual month to date": latest["actual"].to_list(),
            "forecast month end": latest["forecast"].to_list(),
        },
        inputs.minor_units,
    )
    title = f"Budget, actual and forecast as of {inputs.as_of} ({inputs.currency})"
    rows = money_rows(latest, inputs, percents=("actual_percent", "forecast_percent"))
    renamed = [{k.replace("_", " "): v for k, v in row.items()} for row in rows]
    return section(
        "budgets",
        "Budget against actual, forecast and thresholds",
        charts.figure_html(figure, "budgets", title, inputs.currency),
        table("budgets", renamed, "no budget status"),
    )


def billed_section(inputs: ReportInputs) -> str:
    """Billed (cash) against amortized cost per day."""
    daily = report.billed_vs_amortized(inputs.allocated)
    days = [str(d) for d in daily["day"]]
    figure = charts.lines(
        {
            "billed": (days, daily["billed"].to_list()),
            "amortized": (days, daily["amortized"].to_list()),
        },
        inputs.minor_units,
    )
    title = f"Billed against amortized cost per day ({inputs.currency})"
    return section(
        "billed-vs-amortized",
        "Billed against amortized",
        charts.figure_html(figure, "billed-vs-amortized", title, inputs.currency),
        table("billed-vs-amortized", money_rows(daily, inputs), "no cost"),
    )


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
nav a { margin-right: 1rem; }
section { margin: 2.5rem 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; }
td { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child { text-align: left; }
th { background: #f4f4f4; }
.empty { color: #666; font-style: italic; }
"""
_NAV = (
    ("trend", "Trend"),
    ("month-to-date", "Month to date"),
    ("budgets", "Budgets"),
    ("billed-vs-amortized", "Billed vs amortized"),
    ("unallocated", "Unallocated"),
    ("anomalies", "Anomalies"),
    ("recommendations", "Recommendations"),
    ("commitments", "Commitments"),
    ("freshness", "Freshness"),
)


def render_report_html(inputs: ReportInputs) -> str:
    """The whole self-contained page of one month: plotly.js inlined once, no outside request."""
    from finops_assets.report import sections

    body = [
        sections.header(inputs),
        "<nav>" + "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in _NAV) + "</nav>",
        trend_section(inputs),
        month_to_date_section(inputs),
        budget_section(inputs),
        billed_section(inputs),
        sections.unallocated_section(inputs),
        sections.anomaly_section(inputs),
        sections.recommendation_section(inputs),
        sections.commitment_section(inputs),
        sections.freshness_section(inputs),
    ]
    title = html.escape(f"FinOps report {inputs.month:%Y-%m}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style>"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>'
        f"</head><body>{''.join(body)}</body></html>\n"
    )
