"""Effective-dated rule versions through a real instance: only the days whose version changed.

Four days of the sample estate are materialized on a temp instance with real Delta tables.
Then a second version effective from the third day is applied (allocation_rules and
applicable_rules): exactly the third and fourth days of allocated_costs turn STALE, in the
staleness resolver and in GraphQL (a real code server, dagster_graphql's workspace context),
the first two stay FRESH; the sensor asks for exactly those days; the ledger records the rule
change on them only. Then the version is back-dated (`restate_from` the second day, with a
reason): the sensor, from allocation_rules alone, predicts that exactly the second day moves.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

from finops_assets.allocate.day_versions import days_behind_rules
from finops_assets.allocate.rule_currency import FOLLOWERS
from finops_assets.allocate.sensors import (
    APPLICABLE,
    reallocation_sensor,
    stale_allocated_partitions,
    stale_partitions,
)
from finops_assets.allocate.versions import allocation_versions
from finops_assets.domain.rules import SHIPPED_RULES_PATH, load_rules
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
)

# materializes the graph on a real instance (make test-fast leaves it out)
pytestmark = pytest.mark.slow
START = dt.date(2026, 10, 1)
DAYS = [START + dt.timedelta(days=n) for n in range(4)]
KEYS = [d.isoformat() for d in DAYS]
SHIPPED = SHIPPED_RULES_PATH.read_text(encoding="utf-8")
NEW = load_rules(bumped_rules_text()).data_version
V1 = (SHIPPED, {"effective_from": "2026-10-01"})
V2 = (bumped_rules_text(), {"effective_from": "2026-10-03"})
V2_RESTATED = (
    bumped_rules_text(),
    {"effective_from": "2026-10-03", "restate_from": "2026-10-02", "reason": "FIN-7: tax split"},
)
STALE_QUERY = """
query Stale($key: AssetKeyInput!, $partitions: [String!]!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      staleStatusByPartition(partitions: $partitions)
      staleCausesByPartition(partitions: $partitions) {
        key { path } reason dependency { path }
      }
    }
  }
}"""


@dataclass
class Lake:
    """The temp instance, lake, rules file and definitions the steps share."""

    instance: dg.DagsterInstance
    lake: DeltaLake
    rules: Path
    defs: dg.Definitions
    defs_file: Path


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Iterator[Lake]:
    """Four days through the whole graph with the shipped rules (one version, every day)."""
    root = tmp_path_factory.mktemp("effective")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(root / "finops"))
        settings = Settings.from_env()
        generate_estate(settings.landing_dir, START, len(DAYS), rows_per_day=200)
        rules = root / "allocation_rules.yaml"
        rules.write_text(SHIPPED, encoding="utf-8")
        defs = definitions_with_rules(rules)
        keys = [k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()]
        (root / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
            assert run_assets(defs, instance, ["allocation_rules"], []).success
            partitioned = [k for k in keys if k != "allocation_rules"]
            assert run_assets(defs, instance, partitioned, DAYS).success
            defs_file = write_definitions_file(root, rules)
            yield Lake(instance, DeltaLake(settings.lake_uri), rules, defs, defs_file)


def _graphql_stale(lake: Lake, key: str) -> tuple[list[str], list[list[dict]]]:
    with define_out_of_process_context(str(lake.defs_file), "defs", lake.instance) as context:
        result = execute_dagster_graphql(
            context, STALE_QUERY, {"key": {"path": [key]}, "partitions": KEYS}
        )
    node = result.data["assetNodeOrError"]
    return node["staleStatusByPartition"], node["staleCausesByPartition"]


def _tick(lake: Lake, cursor: str | None = None):
    context = dg.build_sensor_context(
        instance=lake.instance, repository_def=lake.defs.get_repository_def(), cursor=cursor
    )
    return reallocation_sensor.evaluate_tick(context)


def _requested(tick) -> dict[str, list[str]]:
    [request] = tick.run_requests
    by_key: dict[str, list[str]] = {}
    for key, day in request.asset_graph_subset.iterate_asset_partitions():
        by_key.setdefault(key.to_user_string(), []).append(day)
    return {key: sorted(days) for key, days in by_key.items()}


def _ledger(lake: Lake) -> pl.DataFrame:
    return lake.lake.read_days(tables.ALLOCATION_AUDIT, DAYS)


@dataclass(frozen=True)
class Change:
    """What was observed around applying the version effective from the third day."""

    resolver_stale: list[str]
    rules_stale: list[str]
    graphql: tuple[list[str], list[list[dict]]]
    behind: dict[str, list[str]]
    requested: dict[str, list[str]]
    untouched_before: list[int]
    untouched_after: list[int]
    stale_after: list[str]
    ledger: pl.DataFrame
    backfill_success: bool
    failed_by_rules_run: dict[str, list[str]]  # check_rules_current days the rules run failed
    passed_by_backfill: dict[str, list[str]]


@pytest.fixture(scope="module")
def change(lake: Lake) -> Change:
    """Apply v2 (effective 10-03), tick the sensor, run what it asked for."""
    graph = lake.defs.get_repository_def().asset_graph
    untouched = [allocation_versions(lake.lake, d)["x_delta_version_after"][0] for d in DAYS[:2]]
    lake.rules.write_text(history_text(V1, V2), encoding="utf-8")
    rules_run = run_assets(lake.defs, lake.instance, ["allocation_rules"], [])
    assert rules_run.success
    assert run_assets(lake.defs, lake.instance, ["applicable_rules"], DAYS).success
    resolver_stale = stale_allocated_partitions(lake.instance, graph)
    rules_stale = stale_partitions(lake.instance, graph, APPLICABLE, None)
    graphql = _graphql_stale(lake, "allocated_costs")
    behind = days_behind_rules(lake.instance, [dg.AssetKey("budget_status")])
    tick = _tick(lake)
    requested = _requested(tick)
    keys = sorted(requested)
    days = sorted({dt.date.fromisoformat(d) for ds in requested.values() for d in ds})
    backfill = run_assets(lake.defs, lake.instance, keys, days)
    return Change(
        resolver_stale=resolver_stale,
        rules_stale=rules_stale,
        graphql=graphql,
        behind=behind,
        requested=requested,
        untouched_before=untouched,
        untouched_after=[
            allocation_versions(lake.lake, d)["x_delta_version_after"][0] for d in DAYS[:2]
        ],
        stale_after=stale_allocated_partitions(lake.instance, graph),
        ledger=_ledger(lake),
        backfill_success=backfill.success,
        failed_by_rules_run=_check_days(rules_run, passed=False),
        passed_by_backfill=_check_days(backfill, passed=True),
    )


def _check_days(result: dg.ExecuteInProcessResult, passed: bool) -> dict[str, list[str]]:
    """Per asset, the days whose check_rules_current result in the run was `passed`."""
    days: dict[str, list[str]] = {}
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name == "check_rules_current" and evaluation.passed == passed:
            days.setdefault(evaluation.asset_key.to_user_string(), []).append(
                str(evaluation.partition)
            )
    return {key: sorted(d) for key, d in days.items()}


def test_only_days_from_effective_from_turn_stale(change: Change):
    assert change.rules_stale == []  # applicable_rules was re-run: nothing pending there
    assert change.resolver_stale == KEYS[2:]
    statuses, causes = change.graphql
    assert statuses == ["FRESH", "FRESH", "STALE", "STALE"]
    assert causes[0] == [] and causes[1] == []
    for day_causes in causes[2:]:  # the root cause: the day's rule version changed
        assert day_causes, causes
        assert {c["key"]["path"][0] for c in day_causes} == {"applicable_rules"}, causes
        assert {c["reason"] for c in day_causes} == {"has a new data version"}, causes
    assert change.behind == {"budget_status": KEYS[2:]}


def test_the_rules_run_fails_the_check_on_those_days_only(change: Change):
    """Behind = another version applies now than at the day's materialization, not 'older'."""
    followers = set(FOLLOWERS)
    assert set(change.failed_by_rules_run) == followers  # every asset after allocated_costs
    assert all(days == KEYS[2:] for days in change.failed_by_rules_run.values())
    # the backfill re-allocated those days: each passes (the preview is not re-run)
    assert set(change.passed_by_backfill) == followers - {"allocation_preview"}
    assert all(days == KEYS[2:] for days in change.passed_by_backfill.values())


def test_the_sensor_backfills_exactly_those_days_and_everything_after(change: Change):
    assert "applicable_rules" not in change.requested
    assert change.requested["allocated_costs"] == KEYS[2:]
    assert {d for days in change.requested.values() for d in days} == set(KEYS[2:])
    for key in ["allocation_audit", "cost_by_business_unit", "budget_status", "finops_kpis"]:
        assert change.requested[key] == KEYS[2:], key
    assert change.backfill_success
    assert change.stale_after == []
    # the days before effective_from were not rewritten
    assert change.untouched_after == change.untouched_before


def test_the_ledger_records_the_rule_change_on_those_days_only(change: Change, lake: Lake):
    moved = change.ledger.filter(pl.col("cause") == "rule_change")
    assert sorted({d.isoformat() for d in moved["x_charge_date"].to_list()}) == KEYS[2:]
    assert set(moved["rule_version_after"].to_list()) == {NEW}
    assert moved.filter(pl.col("billed_cost_delta") != 0).height >= 2
    for day in DAYS[2:]:
        rows = moved.filter(pl.col("x_charge_date") == day)
        assert sum(rows["billed_cost_delta"].to_list(), Decimal(0)) == 0
        source = lake.lake.read_day(tables.NORMALIZED_COSTS, day)["x_billed_cost_base"].sum()
        assert sum(rows["billed_cost_after"].to_list(), Decimal(0)) == source
    kept = lake.lake.read_days(tables.ALLOCATED_COSTS, DAYS[:2])
    assert set(kept["x_allocation_rule_version"].to_list()) == {load_rules(SHIPPED).data_version}


@pytest.fixture(scope="module")
def restated(change: Change, lake: Lake) -> dict:
    """Back-date v2 to 10-02: allocation_rules only, then what the sensor asks for."""
    graph = lake.defs.get_repository_def().asset_graph
    lake.rules.write_text(history_text(V1, V2_RESTATED), encoding="utf-8")
    assert run_assets(lake.defs, lake.instance, ["allocation_rules"], []).success
    behind = days_behind_rules(lake.instance, [dg.AssetKey("allocated_costs")])
    requested = _requested(_tick(lake))
    assert run_assets(lake.defs, lake.instance, ["applicable_rules"], DAYS).success
    graphql = _graphql_stale(lake, "allocated_costs")
    keys = sorted(k for k in requested if k != "applicable_rules")
    assert run_assets(lake.defs, lake.instance, keys, [DAYS[1]]).success
    return {
        "behind": behind,
        "requested": requested,
        "graphql": graphql,
        "stale_after": stale_allocated_partitions(lake.instance, graph),
        "ledger": _ledger(lake),
        "history": lake.lake.read_all(tables.ALLOCATION_RULES),
        "applicable": lake.lake.read_days(tables.APPLICABLE_RULES, DAYS),
    }


def test_restate_from_moves_the_boundary_back_to_exactly_that_day(restated: dict):
    assert restated["behind"] == {"allocated_costs": [KEYS[1]]}
    requested = restated["requested"]
    assert requested["applicable_rules"] == KEYS  # every day's version is re-decided...
    assert requested["allocated_costs"] == [KEYS[1]]  # ...but only 10-02 changes
    assert {d for k, days in requested.items() if k != "applicable_rules" for d in days} == {
        KEYS[1]
    }
    assert restated["graphql"][0] == ["FRESH", "STALE", "FRESH", "FRESH"]
    assert restated["stale_after"] == []
    ledger = restated["ledger"].filter(pl.col("cause") == "rule_change")
    assert sorted({d.isoformat() for d in ledger["x_charge_date"].to_list()}) == KEYS[1:]


def test_the_history_keeps_every_version_with_its_window(restated: dict):
    history = restated["history"]
    # three materialized histories: shipped, v1+v2, v1+v2 restated (one row per version)
    assert history["history_version"].n_unique() == 3
    assert history.height == 5
    last = history.filter(pl.col("restate_from").is_not_null())
    assert last["reason"].to_list() == ["FIN-7: tax split"]
    assert last["restate_from"].to_list() == [dt.date(2026, 10, 2)]
    applied = restated["applicable"].sort("x_charge_date")
    assert applied["data_version"].to_list()[1:] == [NEW] * 3
    assert applied["reason"].to_list()[1] == "FIN-7: tax split"
