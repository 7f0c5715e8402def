"""A rule change seen from outside: a real dagster-webserver and daemon, GraphQL and Chromium.

One estate is materialized with the shipped rules, then the rules file gets a new version and
`allocation_rules` and `applicable_rules` are re-materialized. The tests read staleness over
GraphQL and in the UI, then start the re-allocation sensor and watch the daemon run its
backfill to completion. The code location runs its steps in the run's own process (in-process
executor): the backfill, queue, sensor and daemon are the product's; only a process start per
step (several seconds each on 2 cores; scale/test_parallel_execution.py covers that executor)
is left out.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from finops_assets.allocate.sensors import stale_allocated_partitions
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
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
from finops_assets_tests.ui.backfills import stale_by_day, start_sensor_and_wait_for_backfill
from finops_assets_tests.ui.check_days import check_days

pytestmark = pytest.mark.slow

START = dt.date(2026, 10, 1)
DAYS = [START + dt.timedelta(days=n) for n in range(3)]
PARTITIONS = [d.isoformat() for d in DAYS]
DOWNSTREAM = ["cost_by_business_unit", "budget_status", "budget_events", "finops_kpis"]


@dataclass(frozen=True)
class RuleChange:
    """The running stack after the rule change, and what the test needs to look around."""

    stack: DagsterStack
    instance: dg.DagsterInstance
    defs: dg.Definitions
    lake: DeltaLake
    artifacts: Path


def stale_status(stack: DagsterStack, key: str) -> list[str]:
    """staleStatusByPartition of `key` for the test's days, over GraphQL."""
    return stale_by_day(stack, key, PARTITIONS)


@pytest.fixture(scope="module")
def rule_change(tmp_path_factory) -> Iterator[RuleChange]:
    """Estate on the old rules, rules bumped and re-materialized, webserver + daemon running."""
    root = tmp_path_factory.mktemp("rule_change")
    home = prepare_home(root / "dagster")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(root / "finops"))
        patch.setenv("DAGSTER_HOME", str(home))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, START, len(DAYS), rows_per_day=200)
        rules = write_shipped_rules(root / "allocation_rules.yaml")
        defs = definitions_with_rules(rules)
        env = {"FINOPS_HOME": str(root / "finops"), "PYTHONPATH": str(REPO_ROOT)}
        definitions_file = write_definitions_file(root, rules, in_process=True)
        with (
            dg.DagsterInstance.get() as instance,
            running_dagster_stack(home, definitions_file, env) as stack,
        ):
            keys = [k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()]
            partitioned = [k for k in keys if k != "allocation_rules"]
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            assert run_assets(defs, instance, partitioned, DAYS).success
            write_bumped_rules(rules)
            # applying a rule file: the history, then each day's version (every day: the
            # bumped version has no effective_from)
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            assert run_assets(defs, instance, ["applicable_rules"], DAYS).success
            yield RuleChange(stack, instance, defs, DeltaLake(settings.lake_uri), root)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def completed_backfill(rule_change: RuleChange) -> dict:
    """Start the re-allocation sensor over GraphQL and wait until the daemon's backfill ends."""
    return start_sensor_and_wait_for_backfill(rule_change.stack, "reallocation_sensor")


def test_graphql_and_resolver_report_every_materialized_day_stale(rule_change):
    assert stale_status(rule_change.stack, "allocated_costs") == ["STALE"] * len(DAYS)
    for key in DOWNSTREAM:  # one hop only: not stale until allocated_costs is re-run
        assert stale_status(rule_change.stack, key) == ["FRESH"] * len(DAYS), key
        # ... but the rules run failed their check_rules_current on every day
        assert check_days(rule_change.stack, key)[0] == {"FAILED": PARTITIONS}, key
    graph = rule_change.defs.get_repository_def().asset_graph
    assert stale_allocated_partitions(rule_change.instance, graph) == PARTITIONS


def test_ui_shows_the_stale_partitions_as_unsynced(rule_change, browser):
    page = browser.new_page()
    url = (
        f"{rule_change.stack.url}/assets/allocated_costs?view=partitions&partition={PARTITIONS[1]}"
    )
    page.goto(url)
    page.get_by_text("Unsynced").first.wait_for(timeout=60_000)
    page.screenshot(path=str(rule_change.artifacts / "allocated_costs_unsynced.png"))
    body = page.inner_text("body")
    assert "Unsynced" in body and "Materialized" in body
    page.get_by_text("Unsynced").first.hover()
    page.get_by_text("applicable_rules has a new data version").first.wait_for(timeout=30_000)
    page.close()


def test_sensor_backfill_refreshes_every_stale_day(rule_change, completed_backfill):
    assert completed_backfill["isAssetBackfill"]
    assert completed_backfill["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}
    runs = completed_backfill["runs"]
    assert runs and all(r["status"] == "SUCCESS" for r in runs)
    assert len(runs) <= 4  # single-run backfill policy: a run per wave of assets, not per day
    for key in ["allocated_costs", "allocation_audit", *DOWNSTREAM]:
        assert stale_status(rule_change.stack, key) == ["FRESH"] * len(DAYS), key
    ledger = rule_change.lake.read_days(tables.ALLOCATION_AUDIT, DAYS)
    audit = ledger.filter(pl.col("cause") == "rule_change")  # appended after the initial ones
    assert set(audit["x_charge_date"].to_list()) == set(DAYS)
    assert audit["x_run_id"].is_in([r["runId"] for r in runs]).all()
    assert audit.filter(pl.col("billed_cost_delta") != 0).height > 0


def test_ui_shows_the_completed_backfill(rule_change, completed_backfill, browser):
    page = browser.new_page()
    page.goto(f"{rule_change.stack.url}/runs/b/{completed_backfill['id']}")
    page.get_by_text(completed_backfill["id"]).first.wait_for(timeout=60_000)
    # "Succeeded" is also a column header: read the status block, next to its "Status" label.
    status = page.get_by_text("Status", exact=True).first.locator("xpath=..")
    expect(status).to_contain_text("Succeeded", timeout=60_000)
    page.screenshot(path=str(rule_change.artifacts / "backfill_succeeded.png"))
    body = page.inner_text("body")
    assert "allocated_costs" in body and "budget_events" in body
    assert "Succeeded" in status.inner_text()
    page.close()
