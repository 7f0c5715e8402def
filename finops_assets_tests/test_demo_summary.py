"""`finops demo` reads as a finance summary: minor units, plain names, explanations, progress."""

import os
import re
import subprocess
import sys
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # a real two-day demo run through every asset


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory):
    """A real two-day `finops demo` in its own process with every warning shown (-W always)."""
    home = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "FINOPS_HOME": str(home), "FINOPS_ECB_BASE_URL": "off"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.pop("DAGSTER_HOME", None)
    command = ["demo", "--start", "2026-10-01", "--days", "2", "--rows-per-day", "200"]
    done = subprocess.run(
        [sys.executable, "-W", "always", "-m", "finops_assets.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    settings = Settings.from_env({"FINOPS_HOME": str(home)})
    return done.returncode, done.stdout, done.stderr, settings


def test_the_demo_succeeds_with_one_progress_line_per_step(demo_output):
    code, out, _, _ = demo_output
    assert code == 0
    head, _, summary = out.partition("finops_assets demo: charge days")
    steps = [line for line in head.splitlines() if line.startswith("  done    ")]
    assert any(line.startswith("  done    normalized_costs (") for line in steps)
    assert any(line.startswith("  done    finops_report (") for line in steps)
    assert len(head.splitlines()) < 80  # quiet: no Dagster log lines, one line per step
    assert "DEBUG" not in head and " - INFO - " not in head
    assert summary


def test_the_summary_has_plain_names_and_money_in_minor_units(demo_output):
    _, out, _, settings = demo_output
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


def test_the_run_prints_no_beta_preview_or_deprecation_warning_of_our_own(demo_output):
    """Every warning enabled: none comes from the project's use of Dagster, Polars or deltalake."""
    code, _, err, _ = demo_output
    assert code == 0, err[-3000:]
    for word in ("BetaWarning", "PreviewWarning", "SupersessionWarning"):
        assert word not in err, err[-3000:]
    ours = [line for line in err.splitlines() if "Warning" in line and "finops_assets/" in line]
    assert ours == []
