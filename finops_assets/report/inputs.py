"""What one month's report is made of, and the small HTML helpers every section uses."""

import datetime as dt
import html
from dataclasses import dataclass, field

import polars as pl

from finops_assets.domain.report_format import text_rows


@dataclass(frozen=True)
class ReportInputs:
    """The lake rows one month's report is made of (each frame limited to the month)."""

    month: dt.date  # first day of the billing month
    as_of: dt.date  # last charge day with allocated cost in the month
    currency: str  # base currency
    minor_units: int
    allocated: pl.DataFrame  # allocated_costs, report.REPORT_COLUMNS, this month
    allocated_last_month: pl.DataFrame  # the same columns, the month before
    normalized: pl.DataFrame  # normalized_costs commitment columns, this month
    budget_status: pl.DataFrame
    thresholds: dict[str, tuple[int, ...]]
    anomalies: pl.DataFrame
    rightsizing: pl.DataFrame
    commitments: pl.DataFrame
    raw_days: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    minor_units_of: dict[str, int] = field(default_factory=dict)


def table(figure: str, rows: list[dict[str, str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty" data-figure="{figure}">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    return (
        f'<table data-figure="{figure}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{"".join(parts)}</section>'


def money_rows(frame: pl.DataFrame, inputs: ReportInputs, **kwargs) -> list[dict[str, str]]:
    return text_rows(frame, inputs.minor_units, minor_units_of=inputs.minor_units_of, **kwargs)
