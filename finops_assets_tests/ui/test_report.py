"""finops_report from a real materialization, opened in Debian's chromium, checked against the lake.

A small demo estate (2026-10-27 .. 2026-10-30, days the shipped ECB seed covers) is materialized
on a real (temp, SQLite) Dagster instance with real Delta tables. Every expected figure is computed
here from the allocated_costs Delta table with plain Python Decimal sums, never from the
report's own code, and compared with what the page shows and what its charts were given.
"""

import csv
import datetime as dt
import html.parser
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import polars as pl
import pytest
from playwright.sync_api import sync_playwright

from finops_assets.demo import materialize_window
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.conftest import REPO_ROOT
from finops_assets_tests.tools import launch_chromium

START, END = dt.date(2026, 10, 27), dt.date(2026, 10, 30)
MONTH, MONTH_END = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
SCREENSHOT = REPO_ROOT / "docs" / "report.png"

pytestmark = pytest.mark.slow  # one ranged run of the whole graph, about 30 s on 2 cores


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """Four days through every asset, finops_report included (the ECB feed off: seed only)."""
    home = tmp_path_factory.mktemp("finops")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        patch.setenv("FINOPS_ECB_BASE_URL", "off")
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, START, 4, rows_per_day=300)
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            result = materialize_window(instance, START, END)
            assert result.success
            yield settings, instance, result


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


class _Tables(html.parser.HTMLParser):
    """The page's `data-figure` tables as lists of {header: cell text}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self._name: str | None = None
        self._headers: list[str] = []
        self._row: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "data-figure" in attributes:
            self._name, self._headers = attributes["data-figure"], []
            self.tables[self._name] = []
        elif tag in ("td", "th") and self._name:
            self._cell = []
        elif tag == "tr":
            self._row = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._name:
            if not self._headers:
                self._headers = self._row
            else:
                self.tables[self._name].append(dict(zip(self._headers, self._row, strict=True)))
        elif tag == "table":
            self._name = None


def _page_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def _allocated_rows(settings: Settings, first: dt.date, last: dt.date) -> list[dict]:
    lake = DeltaLake(settings.lake_uri)
    frame = lake.scan(tables.ALLOCATED_COSTS).filter(
        pl.col("x_charge_date").is_between(first, last)
    )
    return frame.collect().to_dicts()


def _sums(rows: list[dict], key, column: str = "x_effective_cost_base") -> dict:
    totals: dict = defaultdict(Decimal)
    for row in rows:
        totals[key(row)] += row[column]
    return dict(totals)


def _report_file(settings: Settings, month: str, name: str = "finops_report.html") -> Path:
    return Path(settings.lake_uri) / "reports" / month / name


def test_the_report_and_showback_files_are_published_beside_the_lake(estate):
    settings, _, result = estate
    for month in ("2026-10",):
        for name in ("finops_report.html", "showback.csv", "showback.parquet"):
            assert _report_file(settings, month, name).is_file()
    metadata = result.asset_materializations_for_node("finops_report")[-1].metadata
    opened = Path(urlparse(metadata["report"].value).path)
    assert opened == _report_file(settings, "2026-10")


def test_every_figure_on_the_report_reconciles_with_allocated_costs(estate):
    settings, _, _ = estate
    rows = _allocated_rows(settings, MONTH, MONTH_END)
    page = _page_tables(_report_file(settings, "2026-10"))
    for figure, column in (
        ("cost-by-business-unit", "x_business_unit"),
        ("cost-by-provider", "x_provider"),
        ("cost-by-service", "ServiceName"),
    ):
        name = page[figure][0].keys().__iter__().__next__()
        shown = {r[name]: (_money(r["billed"]), _money(r["amortized"])) for r in page[figure]}
        amortized = _sums(rows, lambda r, c=column: r[c])
        billed = _sums(rows, lambda r, c=column: r[c], "x_billed_cost_base")
        assert shown == {k: (billed[k], amortized[k]) for k in amortized}, figure
    daily = {
        r["day"]: (_money(r["billed"]), _money(r["amortized"])) for r in page["billed-vs-amortized"]
    }
    by_day = _sums(rows, lambda r: str(r["x_charge_date"]))
    by_day_billed = _sums(rows, lambda r: str(r["x_charge_date"]), "x_billed_cost_base")
    assert daily == {d: (by_day_billed[d], by_day[d]) for d in by_day}
    total = sum(by_day.values(), Decimal(0))
    september = _allocated_rows(settings, dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    mtd = page["month-to-date"][0]
    assert _money(mtd["month to date"]) == total
    assert _money(mtd["last month, total"]) == sum(
        (r["x_effective_cost_base"] for r in september), Decimal(0)
    )
    unallocated = [r for r in rows if r["x_allocation_method"] == "unallocated"]
    summary = page["unallocated"][0]
    assert _money(summary["total cost"]) == total
    assert _money(summary["unallocated cost"]) == sum(
        (r["x_effective_cost_base"] for r in unallocated), Decimal(0)
    )
    by_resource = _sums(
        unallocated,
        lambda r: (
            r["x_provider"],
            r["SubAccountId"] or "(none)",
            r["ServiceName"] or "(none)",
            r["ResourceId"] or "(no resource id)",
        ),
    )
    assert page["unallocated-resources"]
    for shown_row in page["unallocated-resources"]:
        key = tuple(shown_row[k] for k in ("provider", "account", "service", "resource"))
        assert _money(shown_row["cost"]) == by_resource[key]
    columns = {"business_unit": "x_business_unit", "provider": "x_provider"}
    checked = 0
    for budget in page["budgets"]:
        kind, _, value = budget["scope"].partition(": ")
        if kind in columns:
            spent = _sums(rows, lambda r, c=columns[kind]: r[c]).get(value, Decimal(0))
            assert _money(budget["actual"]) == spent, budget["budget"]
            checked += 1
    assert checked >= 2


def test_run_rate_and_compute_usage_follow_from_allocated_costs(estate):
    """The derived figures: run rate from month to date, compute usage behind the coverage."""
    settings, _, _ = estate
    rows = _allocated_rows(settings, MONTH, MONTH_END)
    page = _page_tables(_report_file(settings, "2026-10"))
    mtd = page["month-to-date"][0]
    as_of = max(r["x_charge_date"] for r in rows)
    spent = sum((r["x_effective_cost_base"] for r in rows), Decimal(0))
    expected = (spent * 31 / as_of.day).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert _money(mtd["run rate (month)"]) == expected
    assert mtd["days elapsed"] == f"{as_of.day} of 31"
    compute = [
        r for r in rows if r["ChargeCategory"] == "Usage" and r["ServiceCategory"] == "Compute"
    ]
    usage = _sums(compute, lambda r: r["x_provider"])
    shown = {r["provider"]: _money(r["compute usage"]) for r in page["commitment-coverage"]}
    assert {p: a for p, a in shown.items() if a} == {p: a for p, a in usage.items() if a}


def test_the_showback_files_add_up_to_allocated_costs_per_business_unit(estate):
    settings, _, _ = estate
    rows = _allocated_rows(settings, MONTH, MONTH_END)
    expected = _sums(rows, lambda r: r["x_business_unit"])
    with _report_file(settings, "2026-10", "showback.csv").open() as handle:
        shown = _sums(
            [{**r, "amount": Decimal(r["amortized_cost"])} for r in csv.DictReader(handle)],
            lambda r: r["business_unit"],
            "amount",
        )
    assert shown == expected
    parquet = pl.read_parquet(_report_file(settings, "2026-10", "showback.parquet"))
    assert parquet.schema["amortized_cost"] == pl.Decimal(38, 2)
    assert parquet["amortized_cost"].sum() == sum(expected.values(), Decimal(0))


def test_a_rerun_writes_the_same_report(estate):
    settings, instance, _ = estate
    before = {
        name: _report_file(settings, "2026-10", name).read_bytes()
        for name in ("finops_report.html", "showback.csv")
    }
    again = materialize_window(instance, END, END, selection="finops_report")
    assert again.success
    for name, content in before.items():
        assert _report_file(settings, "2026-10", name).read_bytes() == content, name


def test_the_charts_render_in_chromium_with_the_lakes_totals(estate):
    settings, _, _ = estate
    rows = _allocated_rows(settings, MONTH, MONTH_END)
    total = sum((r["x_effective_cost_base"] for r in rows), Decimal(0))
    billed = sum((r["x_billed_cost_base"] for r in rows), Decimal(0))
    path = _report_file(settings, "2026-10")
    charts = path.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file:") else 0)
        page.goto(path.as_uri())
        page.wait_for_function(
            "[...document.querySelectorAll('.plotly-graph-div')]"
            ".every(d => d.querySelector('svg.main-svg g.trace'))"
        )
        drawn = page.locator(".plotly-graph-div").evaluate_all(
            "divs => divs.filter(d => d.querySelectorAll('svg.main-svg g.trace').length).length"
        )
        assert charts >= 7 and drawn == charts
        for div_id, expected in (
            ("chart-daily-by-business-unit", total),
            ("chart-daily-by-provider", total),
            ("chart-daily-by-service", total),
        ):
            given = page.evaluate(f"document.getElementById('{div_id}').data.map(t => t.y)")
            assert sum((Decimal(y) for trace in given for y in trace), Decimal(0)) == expected
        traces = page.evaluate(
            "document.getElementById('chart-billed-vs-amortized').data.map(t => [t.name, t.y])"
        )
        sums = {name: sum((Decimal(y) for y in ys), Decimal(0)) for name, ys in traces}
        assert sums == {"billed": billed, "amortized": total}
        assert outside == []
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOT),
            clip={"x": 0, "y": 0, "width": 1280, "height": 2200},
            full_page=True,
        )
        browser.close()
