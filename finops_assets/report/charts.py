"""Plotly charts of the FinOps report, drawn from Decimal figures given to plotly.js as text.

Amounts are handed to the chart as exact decimal text at the currency's minor units (never as
floats); plotly.js reads them on a linear axis. Every figure has a fixed div id, so the same
figures always give the same HTML (an idempotent report).
"""

from collections.abc import Iterable
from decimal import Decimal

import plotly.graph_objects as go
import polars as pl

from finops_assets.domain.report_format import amount_text

_LAYOUT = {
    "template": "plotly_white",
    "height": 380,
    "margin": {"l": 70, "r": 20, "t": 50, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
}


def figure_html(figure: go.Figure, div_id: str, title: str, currency: str) -> str:
    """One chart as an HTML fragment (plotly.js itself is inlined once in the page head).

    The x axis is categorical: days, budgets and resources are labels, not a time scale. The
    div's id is `chart-<div_id>` (sections use the bare names as anchors).
    """
    figure.update_layout(
        title={"text": title},
        yaxis={"type": "linear", "title": currency},
        xaxis={"type": "category"},
        **_LAYOUT,
    )
    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{div_id}",
        default_height=f"{_LAYOUT['height']}px",
        config={"displaylogo": False},
    )


def _amounts(values: Iterable[Decimal | None], minor_units: int) -> list[str]:
    return [amount_text(v if v is not None else Decimal(0), minor_units) for v in values]


def stacked_daily(
    daily: pl.DataFrame, dimension: str, minor_units: int, kind: str = "bar"
) -> go.Figure:
    """Daily cost, one trace per value of `dimension` (stacked bars or lines)."""
    figure = go.Figure()
    for value in daily[dimension].unique().sort().to_list():
        part = daily.filter(pl.col(dimension) == value)
        x = [str(d) for d in part["day"]]
        y = _amounts(part["cost"], minor_units)
        if kind == "bar":
            figure.add_trace(go.Bar(x=x, y=y, name=str(value)))
        else:
            figure.add_trace(go.Scatter(x=x, y=y, name=str(value), mode="lines+markers"))
    figure.update_layout(barmode="stack")
    return figure


def lines(series: dict[str, tuple[list[str], list[Decimal]]], minor_units: int) -> go.Figure:
    """One line per named series of (x labels, amounts)."""
    figure = go.Figure()
    for name, (x, values) in series.items():
        figure.add_trace(
            go.Scatter(x=x, y=_amounts(values, minor_units), name=name, mode="lines+markers")
        )
    return figure


def grouped_bars(x: list[str], series: dict[str, list[Decimal]], minor_units: int) -> go.Figure:
    """Grouped bars: one bar per named series at each x."""
    figure = go.Figure()
    for name, values in series.items():
        figure.add_trace(go.Bar(x=x, y=_amounts(values, minor_units), name=name))
    figure.update_layout(barmode="group")
    return figure


def ratio_bars(x: list[str], series: dict[str, list[Decimal | None]]) -> go.Figure:
    """Grouped bars of ratios shown in percent (coverage, utilization)."""
    figure = go.Figure()
    for name, values in series.items():
        shown = [str(v * 100) if v is not None else None for v in values]
        figure.add_trace(go.Bar(x=x, y=shown, name=name))
    figure.update_layout(barmode="group")
    return figure
