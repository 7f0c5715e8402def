"""Rule change -> stale partitions -> one backfill -> audit of what moved (in-process)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import dagster as dg
import polars as pl
import pytest
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._time import get_current_datetime
from polars.testing import assert_frame_equal

from finops_assets.allocate.sensors import (
    APPLICABLE,
    reallocation_sensor,
    stale_allocated_partitions,
    stale_partitions,
)
from finops_assets.allocate.versions import allocation_versions
from finops_assets.domain.rules import SHIPPED_RULES_PATH
from finops_assets.storage import tables
from finops_assets_tests.allocate.conftest import DAYS, Estate, run_assets
from finops_assets_tests.allocate.rules_change import (
    NEW_VERSION,
    definitions_with_rules,
    write_bumped_rules,
    write_shipped_rules,
)

pytestmark = pytest.mark.slow

DOWNSTREAM = [
    "allocated_costs",
    "allocation_audit",
    "cost_by_business_unit",
    "budget_status",
    "budget_events",
    "finops_kpis",
]


@dataclass(frozen=True)
class Reallocation:
    """What was observed around one rule change."""

    stale_before_change: list[str]
    tick_before_change: Any
    stale_after_change: list[str]
    rules_stale_after_change: list[str]
    downstream_stale_after_change: list[str]
    tick_after_change: Any
    tick_again: Any
    backfill: dg.ExecuteInProcessResult
    stale_after_backfill: list[str]
    audit: pl.DataFrame
    old_version: str
    rules_run: dg.ExecuteInProcessResult
    check_run_before_backfill: dg.ExecuteInProcessResult


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None = None):
    context = dg.build_sensor_context(
        instance=instance, repository_def=defs.get_repository_def(), cursor=cursor
    )
    return reallocation_sensor.evaluate_tick(context)


def _stale(defs: dg.Definitions, instance: dg.DagsterInstance, key: str) -> list[str]:
    graph = defs.get_repository_def().asset_graph
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=graph,
    )
    resolver = CachingStaleStatusResolver(instance, graph, view)
    asset = dg.AssetKey(key)
    return [
        p
        for p in sorted(instance.get_materialized_partitions(asset))
        if resolver.get_status(asset, p) == StaleStatus.STALE
    ]


def _run_rule_currency_check(defs, instance, key: str) -> dg.ExecuteInProcessResult:
    """Execute check_rules_current of one asset, as from the UI."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(),
        asset_check_selection={dg.AssetCheckKey(dg.AssetKey(key), "check_rules_current")},
    )
    return job.execute_in_process(instance=instance)


def _rule_currency(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, bool]]:
    """Per asset, day -> passed, for each check_rules_current result of a run."""
    found: dict[str, dict[str, bool]] = {}
    for e in result.get_asset_check_evaluations():
        if e.check_name == "check_rules_current":
            found.setdefault(e.asset_key.to_user_string(), {})[e.partition or ""] = e.passed
    return found


@pytest.fixture(scope="module")
def reallocation(estate: Estate, tmp_path_factory) -> Reallocation:
    """Bump the rules, tick the sensor, run the requested backfill in-process, read the audit."""
    instance = estate.instance
    rules = write_shipped_rules(tmp_path_factory.mktemp("rules") / "allocation_rules.yaml")
    defs = definitions_with_rules(rules)
    graph = defs.get_repository_def().asset_graph
    old_version = estate.lake.read_day(tables.ALLOCATED_COSTS, DAYS[0])[
        "x_allocation_rule_version"
    ][0]
    stale_before = stale_allocated_partitions(instance, graph)
    tick_before = _tick(defs, instance)
    write_bumped_rules(rules)
    rules_run = run_assets(defs, instance, ["allocation_rules"], [])
    assert rules_run.success
    stale_after = stale_allocated_partitions(instance, graph)
    rules_stale = stale_partitions(instance, graph, APPLICABLE, None)
    downstream_stale = _stale(defs, instance, "cost_by_business_unit")
    tick_after = _tick(defs, instance)
    tick_again = _tick(defs, instance, cursor=tick_after.cursor)
    requested = {
        k.to_user_string() for k in tick_after.run_requests[0].asset_graph_subset.asset_keys
    }
    check_run = _run_rule_currency_check(defs, instance, "budget_status")
    backfill = run_assets(defs, instance, sorted(requested), DAYS)
    return Reallocation(
        stale_before_change=stale_before,
        tick_before_change=tick_before,
        stale_after_change=stale_after,
        rules_stale_after_change=rules_stale,
        downstream_stale_after_change=downstream_stale,
        tick_after_change=tick_after,
        tick_again=tick_again,
        backfill=backfill,
        stale_after_backfill=stale_allocated_partitions(instance, graph),
        audit=estate.lake.read_days(tables.ALLOCATION_AUDIT, DAYS),
        old_version=old_version,
        rules_run=rules_run,
        check_run_before_backfill=check_run,
    )


def test_bumping_the_rule_version_marks_every_day_of_applicable_rules_stale(reallocation):
    days = [d.isoformat() for d in DAYS]
    assert reallocation.stale_before_change == []
    # a version without effective_from applies to every day: every day's version is re-decided
    assert reallocation.rules_stale_after_change == days
    # one hop: allocated_costs turns stale once applicable_rules records the new version
    assert reallocation.stale_after_change == []
    # Staleness travels one hop: the report is not stale until allocated_costs is re-run.
    assert reallocation.downstream_stale_after_change == []


def test_sensor_requests_one_backfill_of_the_stale_days_and_everything_downstream(reallocation):
    assert not reallocation.tick_before_change.run_requests
    requests = reallocation.tick_after_change.run_requests
    assert requests is not None and len(requests) == 1
    subset = requests[0].asset_graph_subset
    assert subset is not None
    requested = {(str(k.to_user_string()), p) for k, p in subset.iterate_asset_partitions()}
    expected = {(key, day.isoformat()) for key in [*DOWNSTREAM, "applicable_rules"] for day in DAYS}
    assert expected <= requested
    # Anything else requested is downstream of allocated_costs too (assets other stages add).
    graph = definitions_with_rules(SHIPPED_RULES_PATH).get_repository_def().asset_graph
    below = {k.to_user_string() for k in graph.get(dg.AssetKey("allocated_costs")).child_keys}
    assert {key for key, _ in requested - expected} <= below
    assert {day for _, day in requested} == {d.isoformat() for d in DAYS}
    # The same change is not requested twice.
    assert not reallocation.tick_again.run_requests


def test_every_report_after_allocated_costs_shows_the_days_behind_the_rules(reallocation):
    days = [d.isoformat() for d in DAYS]
    # the run that put the new rules in force failed every day of every follower, per day
    behind = _rule_currency(reallocation.rules_run)
    assert set(DOWNSTREAM) <= set(behind)
    assert behind == {k: dict.fromkeys(days, False) for k in behind}
    # the check run alone (no partition: every materialized day) agrees
    check_run = _rule_currency(reallocation.check_run_before_backfill)
    assert check_run == {"budget_status": dict.fromkeys(days, False)}
    # the single-run backfill re-allocated every day and passed each of them, per day
    assert _rule_currency(reallocation.backfill) == {k: dict.fromkeys(days, True) for k in behind}


def test_backfill_refreshes_and_the_audit_explains_what_moved(reallocation, estate):
    assert reallocation.backfill.success
    assert reallocation.stale_after_backfill == []
    ledger = reallocation.audit
    # The ledger keeps the days' first allocations and appends the rule change after them.
    initial = ledger.filter(pl.col("cause") == "initial")
    assert set(initial["x_charge_date"].to_list()) == set(DAYS)
    assert initial["x_sequence"].unique().to_list() == [1]
    audit = ledger.filter(pl.col("cause") == "rule_change")
    assert audit.height + initial.height == ledger.height
    assert set(audit["x_charge_date"].to_list()) == set(DAYS)
    assert audit["x_sequence"].unique().to_list() == [2]
    assert audit["rule_version_before"].unique().to_list() == [reallocation.old_version]
    assert audit["rule_version_after"].unique().to_list()[0].startswith(f"{NEW_VERSION}-")
    assert audit["x_run_id"].unique().to_list() == [reallocation.backfill.run_id]
    assert (audit["delta_version_before"] < audit["delta_version_after"]).all()
    moved = audit.filter(pl.col("billed_cost_delta") != 0)
    assert moved.height >= 2
    for day in DAYS:
        day_rows = audit.filter(pl.col("x_charge_date") == day)
        assert sum(day_rows["billed_cost_delta"].to_list(), Decimal(0)) == 0
        assert sum(day_rows["effective_cost_delta"].to_list(), Decimal(0)) == 0
        source = estate.lake.read_day(tables.NORMALIZED_COSTS, day)["x_billed_cost_base"].sum()
        assert sum(day_rows["billed_cost_before"].to_list(), Decimal(0)) == source
        assert sum(day_rows["billed_cost_after"].to_list(), Decimal(0)) == source
    # Time travel agrees with the audit: the old version of the day still holds the old split.
    row = audit.row(0, named=True)
    old = estate.lake.read_day(
        tables.ALLOCATED_COSTS, row["x_charge_date"], version=row["delta_version_before"]
    )
    unit = old.filter(pl.col("x_business_unit") == row["x_business_unit"])
    assert unit["x_billed_cost_base"].sum() == row["billed_cost_before"]


def test_same_inputs_and_rules_give_identical_content_in_the_same_order(estate, tmp_path):
    defs = definitions_with_rules(write_shipped_rules(tmp_path / "rules.yaml"))
    day = DAYS[0]
    frames = []
    for _ in range(2):  # computed twice (a memoized re-run would reuse the first)
        result = run_assets(defs, estate.instance, ["allocated_costs"], [day], recompute=True)
        assert result.success
        record = allocation_versions(estate.lake, day).row(0, named=True)
        assert record["x_run_id"] == result.run_id
        version = record["x_delta_version_after"]
        frames.append(estate.lake.read_day(tables.ALLOCATED_COSTS, day, version=version))
    # Delta returns its partition files in no fixed order; inside each file (provider, unit)
    # the rows keep the order the engine wrote them in: by source row key, then unit.
    files = ["x_provider", "x_business_unit"]
    first, second = (f.sort(files, maintain_order=True) for f in frames)
    assert first.height > 0
    assert_frame_equal(first, second)
    assert_frame_equal(first, first.sort([*files, "x_source_row_key"]))
    assert first["x_allocation_row_key"].n_unique() == first.height


def test_invalid_rules_fail_with_a_clear_message_and_allocate_nothing(estate, tmp_path):
    rules = write_shipped_rules(tmp_path / "rules.yaml")
    text = rules.read_text(encoding="utf-8")
    bad = "percentages: {marketing-web: 50, payments: 30, search: 19}"
    rules.write_text(
        text.replace("percentages: {marketing-web: 50, payments: 30, search: 20}", bad)
    )
    defs = definitions_with_rules(rules)
    version_before = estate.lake.version(tables.ALLOCATED_COSTS)
    selection = ["allocation_rules", "applicable_rules", "allocated_costs"]
    result = run_assets(defs, estate.instance, selection, [DAYS[0]])
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == [selection[0]]
    message = failures[0].step_failure_data.error.cause.message  # type: ignore[union-attr]
    assert "rule 'azure-shared-database': fixed percentages sum to 99, not 100" in message
    assert estate.lake.version(tables.ALLOCATED_COSTS) == version_before
    assert not result.asset_materializations_for_node("allocated_costs")
