"""The finance flow of issue 21 end to end: a real webserver, the daemon, GraphQL and Chromium.

Four days across a month end (2026-10-30 .. 2026-11-02) go through the whole graph with the
shipped rules. Then, as finance would:
1. a candidate history is previewed (`allocation_preview` with the candidate in run config, and
   `finops rules diff`): v2 effective 2026-11-02, back-dated to 2026-10-31 with a reason;
2. `finops close 2026-10` locks October;
3. the candidate is applied (allocation_rules, then applicable_rules);
4. exactly 2026-10-31 .. 2026-11-02 of allocated_costs are Unsynced (restate_from moves the
   start of v2 back: every day from it on), 2026-10-30 stays synced, in GraphQL and in the UI;
5. the daemon's reallocation_sensor backfills exactly those days (the open ones move, as the
   preview said);
6. October's booked rows and data versions do not move; 2026-10-31's delta waits in
   pending_adjustments, and its check_no_pending_adjustments WARN shows in the check's view.
The daemon's runs execute their steps in the run's own process (in-process executor): only a
process start per step is left out (scale/test_parallel_execution.py covers that executor).
"""

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from finops_assets.allocate.closed_periods import booked_data_version
from finops_assets.allocate.pending import CHECK
from finops_assets.cli import main
from finops_assets.domain.rules import SHIPPED_RULES_PATH
from finops_assets.sample.generate import generate_estate
from finops_assets.settings import Settings
from finops_assets.storage import tables
from finops_assets.storage.delta import DeltaLake
from finops_assets_tests.allocate.conftest import run_assets
from finops_assets_tests.allocate.rules_change import (
    bumped_rules_text,
    definitions_with_rules,
    history_text,
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

DAYS = [dt.date(2026, 10, 30) + dt.timedelta(days=n) for n in range(4)]
KEYS = [d.isoformat() for d in DAYS]
CLOSED = DAYS[:2]  # October, closed before the candidate is applied
AFFECTED = KEYS[1:]  # 10-31 (restate_from, closed) .. 11-02 (effective_from, open)
OPEN = KEYS[2:]
CANDIDATE = history_text(
    (SHIPPED_RULES_PATH.read_text(encoding="utf-8"), {"effective_from": "2026-10-01"}),
    (
        bumped_rules_text(),
        {
            "effective_from": KEYS[3],
            "restate_from": KEYS[1],
            "reason": "FIN-21: tax spread evenly from October's last day",
        },
    ),
)
ALLOCATED = dg.AssetKey("allocated_costs")


@dataclass
class Flow:
    """The running stack and what each step of the flow saw."""

    stack: DagsterStack
    instance: dg.DagsterInstance
    lake: DeltaLake
    artifacts: Path
    preview: pl.DataFrame
    diff: str
    booked: dict
    stale: list[str]


def _booked(lake: DeltaLake, instance: dg.DagsterInstance) -> dict:
    """October's booked rows and per-day data versions of allocated_costs."""
    return {
        "rows": lake.read_days(tables.ALLOCATED_COSTS, CLOSED).sort("x_source_row_key"),
        "versions": [booked_data_version(instance, ALLOCATED, d.isoformat()) for d in CLOSED],
    }


def _preview(defs: dg.Definitions, instance: dg.DagsterInstance, candidate: Path) -> bool:
    """Materialize allocation_preview on every day with `candidate` in run config."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("allocation_preview")}
    )
    config = {"ops": {"allocation_preview": {"config": {"candidate": str(candidate)}}}}
    result = job.execute_in_process(
        instance=instance,
        run_config=config,
        tags={
            "dagster/asset_partition_range_start": KEYS[0],
            "dagster/asset_partition_range_end": KEYS[-1],
        },
        raise_on_error=False,
    )
    return result.success


@pytest.fixture(scope="module")
def flow(tmp_path_factory) -> Iterator[Flow]:
    """Materialize, preview, close October, apply the candidate; webserver + daemon running."""
    root = tmp_path_factory.mktemp("finance_flow")
    home = prepare_home(root / "dagster")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(root / "finops"))
        patch.setenv("DAGSTER_HOME", str(home))
        # the ECB feed is off (the machine has no internet): November takes October 30's rates
        patch.setenv("FINOPS_ECB_BASE_URL", "off")
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, DAYS[0], len(DAYS), rows_per_day=100)
        rules = write_shipped_rules(root / "allocation_rules.yaml")
        candidate = root / "candidate.yaml"
        candidate.write_text(CANDIDATE, encoding="utf-8")
        defs = definitions_with_rules(rules)
        env = {
            "FINOPS_HOME": str(root / "finops"),
            "FINOPS_ECB_BASE_URL": "off",
            "PYTHONPATH": str(REPO_ROOT),
        }
        lake = DeltaLake(settings.lake_uri)
        with (
            dg.DagsterInstance.get() as instance,
            running_dagster_stack(
                home, write_definitions_file(root, rules, in_process=True), env
            ) as stack,
        ):
            keys = [k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()]
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            partitioned = [k for k in keys if k != "allocation_rules"]
            assert run_assets(defs, instance, partitioned, DAYS).success
            # 1. preview the candidate: the asset, and the CLI
            assert _preview(defs, instance, candidate)
            preview = lake.read_days(tables.ALLOCATION_PREVIEW, DAYS)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert main(["rules", "diff", str(candidate)]) == 0
            # 2. close October; 3. apply the candidate
            assert main(["close", "2026-10", "--by", "controller", "--reason", "month-end"]) == 0
            booked = _booked(lake, instance)
            rules.write_text(CANDIDATE, encoding="utf-8")
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            assert run_assets(defs, instance, ["applicable_rules"], DAYS).success
            stale = stale_by_day(stack, "allocated_costs", KEYS)
            yield Flow(stack, instance, lake, root, preview, out.getvalue(), booked, stale)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def backfill(flow: Flow) -> dict:
    """Start reallocation_sensor over GraphQL; the daemon's backfill, once ended, and its days."""
    [after] = flow.instance.fetch_materializations(ALLOCATED, limit=1).records  # newest
    ended = start_sensor_and_wait_for_backfill(flow.stack, "reallocation_sensor")
    records = flow.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=ALLOCATED, after_storage_id=after.storage_id), limit=100
    ).records
    runs = {r["runId"] for r in ended["runs"]}
    assert {r.run_id for r in records} <= runs  # every materialization since: the backfill's
    # (a ranged run records two per day: its output's, then the day's with its data version)
    return {**ended, "days": sorted({str(r.partition_key) for r in records})}


def _moved(frame: pl.DataFrame, day: str) -> dict[str, Decimal]:
    rows = frame.filter(pl.col("x_charge_date") == dt.date.fromisoformat(day))
    return {
        r["x_business_unit"]: r["billed_cost_delta"]
        for r in rows.iter_rows(named=True)
        if r["billed_cost_delta"] != 0
    }


def test_1_the_preview_shows_the_candidate_moving_exactly_its_days(flow: Flow):
    preview = flow.preview
    assert set(preview["x_charge_date"].to_list()) == set(DAYS)
    for day in KEYS:
        moved = _moved(preview, day)
        assert bool(moved) == (day in AFFECTED), (day, moved)
        rows = preview.filter(pl.col("x_charge_date") == dt.date.fromisoformat(day))
        assert sum(rows["billed_cost_delta"].to_list(), Decimal(0)) == 0  # each day conserved
        for row in rows.iter_rows(named=True):
            assert row["billed_cost_after"] - row["billed_cost_before"] == row["billed_cost_delta"]
    for row in preview.filter(pl.col("billed_cost_delta") != 0).iter_rows(named=True):
        day, unit = row["x_charge_date"], row["x_business_unit"]
        [line] = [x for x in flow.diff.splitlines() if x.startswith(f"{day}  {unit} ")]
        assert f"{row['billed_cost_delta']:+}" in line, line  # the CLI prints the same figures


def test_2_the_preview_is_reviewable_in_the_ui(flow: Flow, browser: Browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    url = f"{flow.stack.url}/assets/allocation_preview?view=partitions&partition={AFFECTED[1]}"
    page.goto(url)
    page.get_by_text("units_moved").first.wait_for(timeout=60_000)
    page.screenshot(path=str(flow.artifacts / "preview.png"))
    body = page.inner_text("body")
    page.close()
    assert "candidate_version" in body
    for unit in _moved(flow.preview, AFFECTED[1]):
        assert unit in body, unit


def test_3_graphql_shows_exactly_the_affected_days_stale(flow: Flow):
    assert flow.stale == ["STALE" if k in AFFECTED else "FRESH" for k in KEYS]


def _partition_page(flow: Flow, browser: Browser, day: str) -> tuple[Page, str]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{flow.stack.url}/assets/allocated_costs?view=partitions&partition={day}")
    page.get_by_text("Materialized").first.wait_for(timeout=60_000)
    page.get_by_text(day).first.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle")
    return page, page.inner_text("body")


def test_4_the_ui_shows_unsynced_on_exactly_the_affected_days(flow: Flow, browser: Browser):
    for day in KEYS:
        page, _ = _partition_page(flow, browser, day)
        if day in AFFECTED:
            page.get_by_text("Unsynced").first.wait_for(timeout=60_000)
            page.get_by_text("Unsynced").first.hover()
            page.get_by_text("applicable_rules has a new data version").first.wait_for(
                timeout=30_000
            )
            page.screenshot(path=str(flow.artifacts / f"unsynced-{day}.png"))
        else:
            assert "Unsynced" not in page.inner_text("body"), day
        page.close()


def test_5_the_sensor_backfills_exactly_the_affected_days(flow: Flow, backfill: dict):
    assert backfill["isAssetBackfill"]
    assert backfill["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}
    assert backfill["runs"] and all(r["status"] == "SUCCESS" for r in backfill["runs"])
    assert backfill["days"] == AFFECTED  # allocated_costs materialized on those days only
    assert stale_by_day(flow.stack, "allocated_costs", KEYS) == ["FRESH"] * len(KEYS)
    ledger = flow.lake.read_days(tables.ALLOCATION_AUDIT, DAYS)
    changed = ledger.filter(pl.col("cause") == "rule_change")
    assert sorted({d.isoformat() for d in changed["x_charge_date"].to_list()}) == OPEN
    for day in OPEN:  # the open days moved by exactly what the preview showed
        assert _moved(changed, day) == _moved(flow.preview, day), day


def test_6_october_is_untouched_and_its_adjustment_waits(flow: Flow, backfill: dict):
    assert backfill["days"] == AFFECTED
    now = _booked(flow.lake, flow.instance)
    assert now["rows"].equals(flow.booked["rows"])
    assert now["versions"] == flow.booked["versions"] and None not in now["versions"]
    pending = flow.lake.read_days(tables.PENDING_ADJUSTMENTS, DAYS)
    assert {d.isoformat() for d in pending["x_charge_date"].to_list()} == {KEYS[1]}
    assert _moved(pending, KEYS[1]) == _moved(flow.preview, KEYS[1])
    assert sum(pending["billed_cost_delta"].to_list(), Decimal(0)) == 0
    days, _ = check_days(flow.stack, "pending_adjustments", CHECK)
    assert days.get("FAILED") == [KEYS[1]], days  # the WARN, on the closed affected day only


def test_7_the_pending_adjustment_warns_in_the_check_view(
    flow: Flow, backfill: dict, browser: Browser
):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    query = f"view=checks&checkDetail={CHECK}"
    page.goto(f"{flow.stack.url}/assets/pending_adjustments?{query}")
    page.get_by_role("tab", name="Execution history").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Partitions").last.click(timeout=60_000)
    page.locator(f':text-is("{KEYS[1]}"):visible').last.click(timeout=60_000)
    page.get_by_text("period 2026-10 is closed").first.wait_for(timeout=60_000)
    page.screenshot(path=str(flow.artifacts / "pending-warn.png"))
    body = page.inner_text("body")
    page.close()
    assert "finops reopen 2026-10" in body
