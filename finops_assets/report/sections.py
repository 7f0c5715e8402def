"""Report sections on what to act on: unallocated cost, anomalies, savings, commitments, data."""

import html

from finops_assets.domain import report, report_sections
from finops_assets.domain.report_format import format_money, format_ratio
from finops_assets.report import charts
from finops_assets.report.inputs import ReportInputs, money_rows, section, table


def unallocated_section(inputs: ReportInputs) -> str:
    """Unallocated cost, its share, and the untagged resources behind it."""
    unallocated, total, share = report.unallocated_summary(inputs.allocated)
    top = report.unallocated_resources(inputs.allocated)
    summary = [
        {
            "unallocated cost": format_money(unallocated, inputs.minor_units),
            "total cost": format_money(total, inputs.minor_units),
            "unallocated share": format_ratio(share),
        }
    ]
    parts = [table("unallocated", summary, "no cost")]
    if top.height:
        figure = charts.grouped_bars(
            top["resource"].to_list(),
            {"unallocated cost": top["cost"].to_list()},
            inputs.minor_units,
        )
        title = f"Top untagged resources by unallocated cost ({inputs.currency})"
        parts.append(charts.figure_html(figure, "unallocated-resources", title, inputs.currency))
    parts.append(table("unallocated-resources", money_rows(top, inputs), "nothing unallocated"))
    return section("unallocated", "Unallocated cost and its untagged resources", *parts)


def anomaly_section(inputs: ReportInputs) -> str:
    """Anomalies found this month: expected (seasonal median) against actual spend."""
    rows = report_sections.anomaly_rows(inputs.anomalies)
    if rows.is_empty():
        note = (
            "No anomaly this month: no business unit and service spent far from its seasonal "
            "median (anomalies need a few weeks of history)."
        )
        return section("anomalies", "Anomalies", table("anomalies", [], note))
    labels = [f"{d} {u} {s}" for d, u, s in rows.select("day", "business unit", "service").rows()]
    figure = charts.grouped_bars(
        labels,
        {"expected": rows["expected"].to_list(), "actual": rows["actual"].to_list()},
        inputs.minor_units,
    )
    currencies = ", ".join(sorted(set(rows["currency"].to_list())))
    title = f"Anomalies: expected against actual spend ({currencies})"
    return section(
        "anomalies",
        "Anomalies",
        charts.figure_html(figure, "anomalies", title, currencies),
        table(
            "anomalies",
            money_rows(rows, inputs, currency_column="currency"),
            "no anomaly",
        ),
    )


def recommendation_section(inputs: ReportInputs) -> str:
    """Rightsizing and commitment recommendations of the month's last day, with monthly savings."""
    rightsizing = report_sections.rightsizing_rows(inputs.rightsizing)
    commitments = report_sections.commitment_rows(inputs.commitments)
    parts = []
    if rightsizing.height:
        top = rightsizing.head(15)
        figure = charts.grouped_bars(
            top["resource"].to_list(),
            {"monthly savings": top["monthly savings"].to_list()},
            inputs.minor_units,
        )
        title = f"Rightsizing: estimated monthly savings ({inputs.currency})"
        parts.append(charts.figure_html(figure, "rightsizing", title, inputs.currency))
    parts.append("<h3>Rightsizing</h3>")
    parts.append(table("rightsizing", money_rows(rightsizing, inputs), "no rightsizing candidate"))
    parts.append("<h3>Commitments to buy</h3>")
    ratios = ("expected coverage", "expected utilization")
    parts.append(
        table(
            "commitment-recommendations",
            money_rows(commitments, inputs, ratios=ratios),
            "no commitment worth buying (steady compute spend too low or too short a history)",
        )
    )
    return section("recommendations", "Recommendations and monthly savings", *parts)


def commitment_section(inputs: ReportInputs) -> str:
    """Commitment coverage of compute usage and utilization of the commitments owned."""
    coverage = report_sections.commitment_coverage(inputs.normalized)
    parts = []
    if coverage.height:
        figure = charts.ratio_bars(
            coverage["provider"].to_list(),
            {
                "coverage": coverage["coverage"].to_list(),
                "utilization": coverage["utilization"].to_list(),
            },
        )
        parts.append(
            charts.figure_html(figure, "commitments", "Commitment coverage and utilization", "%")
        )
    rows = money_rows(coverage, inputs, ratios=("coverage", "utilization"))
    parts.append(table("commitment-coverage", rows, "no compute usage this month"))
    parts.append(
        "<p>Coverage counts usage rows that name a commitment (FOCUS CommitmentDiscountId). "
        "Discounts a provider bills as credits (GCP committed use discounts) are credit rows, "
        "not covered usage, and so do not count here.</p>"
    )
    return section("commitments", "Commitment coverage and utilization", *parts)


def freshness_section(inputs: ReportInputs) -> str:
    """Per billing source: days with data, last fetch, rows and quarantined rows."""
    frame = report_sections.freshness(
        inputs.raw_days, inputs.quarantine, inputs.month, inputs.as_of
    )
    rows = [{k: str(v) for k, v in row.items()} for row in frame.to_dicts()]
    note = (
        f"<p>Days with data count the charge days {inputs.month} .. {inputs.as_of}; "
        "quarantined rows are kept in the quarantine table with file, line and reason.</p>"
    )
    return section(
        "freshness",
        "Data freshness and completeness per source",
        note,
        table("freshness", rows, "no billing source"),
    )


def header(inputs: ReportInputs) -> str:
    """The page title block: month, as-of day, currency and what the amounts mean."""
    month = inputs.month.strftime("%B %Y")
    first = str(inputs.allocated["x_charge_date"].min())
    return (
        f"<header><h1>FinOps report: {html.escape(month)}</h1>"
        f"<p>Charge days {first} .. {inputs.as_of} "
        f"(billing month to date), amounts in {inputs.currency} "
        "(amortized = effective cost, commitments spread over the usage they cover; billed = "
        "what the invoice shows). Every amount is a sum of allocated_costs rows.</p></header>"
    )
