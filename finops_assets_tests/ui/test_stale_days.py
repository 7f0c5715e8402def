"""The days a rule change left behind, per day, in GraphQL and in the UI (real webserver, Chromium).

Four days are materialized with the shipped rules; the rules get a new version and are
materialized (that run fails check_rules_current on every day of allocated_costs and each report
after it), then the last two days are re-allocated through every report in one ranged run (a
single-run backfill). The first two days must show failed, per day, on each report's check, and
the last two passed; the check's partition view in Chromium shows it, and its screenshot is
docs/img/stale-days.png.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pytest
from playwright.sync_api import Browser, sync_playwright

from finops_assets.allocate.sensors import REALLOCATION_SELECTION
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets_tests.allocate.conftest import run_assets
from finops_assets_tests.allocate.rules_change import (
    definitions_with_rules,
    write_bumped_rules,
    write_definitions_file,
    write_shipped_rules,
)
from finops_assets_tests.conftest import REPO_ROOT
from finops_assets_tests.servers.dagster_stack import (
    DagsterStack,
    prepare_home,
    running_dagster_stack,
)
from finops_assets_tests.tools import launch_chromium
from finops_assets_tests.ui.check_days import check_days

pytestmark = pytest.mark.slow

START = dt.date(2026, 10, 1)
DAYS = [START + dt.timedelta(days=n) for n in range(4)]
STALE = [d.isoformat() for d in DAYS[:2]]
FRESH = [d.isoformat() for d in DAYS[2:]]
REPORTS = ["allocated_costs", "allocation_audit", "cost_by_business_unit", "budget_status"]
SCREENSHOT = REPO_ROOT / "docs" / "img" / "stale-days.png"


@dataclass(frozen=True)
class StaleDays:
    """The running stack after the rule change and the partial re-allocation."""

    stack: DagsterStack
    instance: dg.DagsterInstance


@pytest.fixture(scope="module")
def stale_days(tmp_path_factory) -> Iterator[StaleDays]:
    """Estate on the old rules, rules bumped, the last two days re-allocated; stack running."""
    root = tmp_path_factory.mktemp("stale_days")
    home = prepare_home(root / "dagster")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(root / "finops"))
        patch.setenv("DAGSTER_HOME", str(home))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, START, len(DAYS), rows_per_day=100)
        rules = write_shipped_rules(root / "allocation_rules.yaml")
        defs = definitions_with_rules(rules)
        graph = defs.resolve_asset_graph()
        keys = [k.to_user_string() for k in graph.get_all_asset_keys()]
        followers = [k.to_user_string() for k in REALLOCATION_SELECTION.resolve(graph)]
        env = {"FINOPS_HOME": str(root / "finops"), "PYTHONPATH": str(REPO_ROOT)}
        with dg.DagsterInstance.get() as instance:
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            partitioned = [k for k in keys if k != "allocation_rules"]
            assert run_assets(defs, instance, partitioned, DAYS).success
            write_bumped_rules(rules)
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            # the last two days re-allocated: their version first, then everything after it
            assert run_assets(defs, instance, ["applicable_rules", *followers], DAYS[2:]).success
            with running_dagster_stack(home, write_definitions_file(root, rules), env) as stack:
                yield StaleDays(stack, instance)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("key", REPORTS)
def test_graphql_shows_exactly_the_days_behind_the_rules_failed(stale_days, key):
    days, description = check_days(stale_days.stack, key)
    assert days == {"FAILED": STALE, "SUCCEEDED": FRESH}
    assert "another allocation rule version" in description


def test_the_check_partition_view_shows_the_stale_days_red(stale_days, browser):
    """The report's check, Partitions tab, failed days only: the two stale days, red."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    query = "view=checks&checkDetail=check_rules_current&status=FAILED"
    page.goto(f"{stale_days.stack.url}/assets/cost_by_business_unit?{query}")
    # the check's own tabs (the asset page has a Partitions tab too, before them)
    page.get_by_role("tab", name="Execution history").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Partitions").last.click(timeout=60_000)
    page.get_by_text("Failed (2)").wait_for(timeout=60_000)
    listed = page.inner_text("body")
    page.locator(f':text-is("{STALE[0]}"):visible').last.click()  # the day's result
    page.get_by_text("rules_in_force").first.wait_for(timeout=60_000)
    detail = page.inner_text("body")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    page.close()
    assert "Passed (2)" in listed and "2 Partitions Selected" in listed
    assert all(day in listed for day in STALE)
    assert not any(day in listed for day in FRESH)  # only the failed days are listed
    assert "behind_rules" in detail and "another allocation rule version" in detail
    assert "version_applied" in detail and "version_applicable" in detail
