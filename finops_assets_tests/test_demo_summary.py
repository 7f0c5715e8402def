"""`finops demo` reads as a finance summary: minor units, plain names, explanations, progress."""

import contextlib
import io
import re
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.cli import main
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake

pytestmark = pytest.mark.slow  # a real two-day demo run through every asset


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory):
    """The console output of a real two-day `finops demo` and its settings."""
    home = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(home))
        patch.setenv("FINOPS_ECB_BASE_URL", "off")
        patch.delenv("DAGSTER_HOME", raising=False)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["demo", "--start", "2026-10-01", "--days", "2", "--rows-per-day", "200"])
        yield code, out.getvalue(), Settings.from_env()


def test_the_demo_succeeds_with_one_progress_line_per_step(demo_output):
    code, out, _ = demo_output
    assert code == 0
    head, _, summary = out.partition("finops_assets demo: charge days")
    steps = [line for line in head.splitlines() if line.startswith("  done    ")]
    assert any(line.startswith("  done    normalized_costs (") for line in steps)
    assert any(line.startswith("  done    finops_report (") for line in steps)
    assert len(head.splitlines()) < 80  # quiet: no Dagster log lines, one line per step
    assert "DEBUG" not in head and " - INFO - " not in head
    assert summary


def test_the_summary_has_plain_names_and_money_in_minor_units(demo_output):
    _, out, settings = demo_output
    summary = out.partition("finops_assets demo: charge days")[2]
    assert "x_business_unit" not in summary and "x_base_currency" not in summary
    assert not re.search(r"\d\.\d{3,}", summary.replace(" %", "")), "amounts beyond minor units"
    assert "0E-10" not in summary
    assert "credits are rows of their own" in summary
    assert "organisation acme-org" in summary and "organisation acme-eu" in summary
    allocated = DeltaLake(settings.lake_uri).read_all(tables.ALLOCATED_COSTS)
    per_unit = allocated.group_by("x_business_unit").agg(pl.col("x_effective_cost_base").sum())
    for unit, amount in per_unit.rows():
        shown = f"{amount.quantize(Decimal('0.01')):,}"
        assert re.search(rf"{re.escape(unit)}\s.*\s{re.escape(shown)}\s", summary), (unit, shown)
