"""Closed periods through a real instance: booked figures stay, pending_adjustments shows the rest.

The allocate estate (2026-10-01..02, shipped rules, real Delta, real SQLite instance) is
closed with `finops close 2026-10`. A second rule version effective from 10-02 is applied and
the days re-materialized: allocated_costs keeps its rows, Delta version and per-day data
versions (cost_by_business_unit does not turn stale); pending_adjustments holds, for 10-02,
the deltas the candidate preview gives for the same version, conserving the day; its check
warns naming the period. An FX change on 10-01 (one row's base amounts +1.25) waits the same
way, its deltas adding up to the 1.25 with the cause fx_change. After `finops reopen 2026-10
--reason ...` and a re-materialization the figures move to exactly the would-be amounts and the
pending rows clear.
"""

import datetime as dt
import json
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest

from finops_assets.allocate.closed_periods import booked_data_version, read_audit
from finops_assets.allocate.pending import CHECK
from finops_assets.allocate.preview import preview_days
from finops_assets.allocate.sensors import stale_partitions
from finops_assets.cli import main
from finops_assets.domain.periods import PENDING_EVENT
from finops_assets.domain.rule_history import load_rule_history
from finops_assets.domain.rules import SHIPPED_RULES_PATH
from finops_assets.storage import tables
from finops_assets_tests.allocate.conftest import DAYS, Estate, run_assets
from finops_assets_tests.allocate.rules_change import (
    bumped_rules_text,
    definitions_with_rules,
    history_text,
)

pytestmark = pytest.mark.slow  # uses the allocate estate (a whole-graph run)
KEYS = [d.isoformat() for d in DAYS]
ALLOCATED = dg.AssetKey("allocated_costs")
BY_UNIT = dg.AssetKey("cost_by_business_unit")
HISTORY = history_text(
    (SHIPPED_RULES_PATH.read_text(encoding="utf-8"), {"effective_from": "2026-10-01"}),
    (bumped_rules_text(), {"effective_from": DAYS[1].isoformat()}),
)
FX_BUMP = Decimal("1.25")
ALLOCATE = ["applicable_rules", "allocated_costs", "pending_adjustments", "cost_by_business_unit"]


def _booked(estate: Estate) -> dict:
    return {
        "rows": estate.lake.read_days(tables.ALLOCATED_COSTS, DAYS).sort("x_source_row_key"),
        "delta_version": estate.lake.version(tables.ALLOCATED_COSTS),
        "data_versions": [booked_data_version(estate.instance, ALLOCATED, k) for k in KEYS],
        "by_unit_versions": [booked_data_version(estate.instance, BY_UNIT, k) for k in KEYS],
    }


def _warnings(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.partition or "": e
        for e in result.get_asset_check_evaluations()
        if e.check_name == CHECK and e.asset_key == dg.AssetKey("pending_adjustments")
    }


@pytest.fixture(scope="module")
def flow(estate: Estate, tmp_path_factory) -> dict:
    """Close, apply v2 from 10-02, re-allocate; reopen, re-allocate. What was seen at each step."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(estate.home))
        rules = tmp_path_factory.mktemp("closed") / "rules.yaml"
        rules.write_text(HISTORY, encoding="utf-8")
        defs = definitions_with_rules(rules)
        seen: dict = {"before": _booked(estate)}
        assert main(["close", "2026-10", "--by", "controller", "--reason", "month-end"]) == 0
        assert run_assets(defs, estate.instance, ["allocation_rules"], []).success
        closed_run = run_assets(defs, estate.instance, ALLOCATE, DAYS)
        seen["closed_run"] = closed_run
        seen["closed"] = _booked(estate)
        seen["pending"] = estate.lake.read_days(tables.PENDING_ADJUSTMENTS, DAYS)
        seen["events"] = _alerts(estate)
        graph = defs.resolve_asset_graph()
        seen["by_unit_stale"] = stale_partitions(estate.instance, graph, BY_UNIT, None)
        seen["preview"] = preview_days(estate.lake, load_rule_history(HISTORY), DAYS)
        seen["fx"] = _fx_change(estate, defs)
        assert main(["reopen", "2026-10", "--by", "cfo", "--reason", "FIN-9: tax split"]) == 0
        seen["reopen_run"] = run_assets(defs, estate.instance, ALLOCATE, DAYS)
        seen["reopened"] = _booked(estate)
        seen["pending_after"] = estate.lake.read_days(tables.PENDING_ADJUSTMENTS, DAYS)
        seen["audit"] = read_audit(estate.lake)
        seen["never_booked"] = _never_booked(estate, defs)
    return seen


def _alerts(estate: Estate) -> list[dict]:
    log = estate.home / "events" / "budget_events.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [e for e in map(json.loads, lines) if e["type"] == PENDING_EVENT]


def _fx_change(estate: Estate, defs: dg.Definitions) -> dict:
    """10-01's base amounts moved by an FX change (one row +1.25), re-run closed, then undone."""
    day, lake = DAYS[0], estate.lake
    original = lake.read_day(tables.NORMALIZED_COSTS, day)
    money = original.schema["x_billed_cost_base"]
    first = pl.int_range(pl.len()) == 0
    bump = pl.when(first).then(pl.lit(FX_BUMP).cast(money)).otherwise(pl.lit(0).cast(money))
    lake.write_day(
        tables.NORMALIZED_COSTS,
        original.with_columns(
            (pl.col(c) + bump).cast(money) for c in ("x_billed_cost_base", "x_effective_cost_base")
        ),
        day,
    )
    before = lake.version(tables.ALLOCATED_COSTS)
    run = run_assets(defs, estate.instance, ["allocated_costs", "pending_adjustments"], [day])
    seen = {
        "run": run,
        "allocated_unchanged": lake.version(tables.ALLOCATED_COSTS) == before,
        "pending": lake.read_day(tables.PENDING_ADJUSTMENTS, day),
    }
    lake.write_day(tables.NORMALIZED_COSTS, original, day)
    return seen


def _never_booked(estate: Estate, defs: dg.Definitions) -> dg.ExecuteInProcessResult:
    assert main(["close", "2026-11", "--by", "controller"]) == 0
    return run_assets(defs, estate.instance, ["allocated_costs"], [dt.date(2026, 11, 1)])


def test_a_closed_day_keeps_its_booked_rows_and_data_version(flow: dict):
    assert flow["closed_run"].success
    before, closed = flow["before"], flow["closed"]
    assert closed["delta_version"] == before["delta_version"]  # not one commit
    assert closed["rows"].equals(before["rows"])
    assert closed["data_versions"] == before["data_versions"]
    assert None not in closed["data_versions"]
    # the day's new materialization records the booked version: nothing after it goes stale
    assert flow["by_unit_stale"] == []
    assert closed["by_unit_versions"] == before["by_unit_versions"]
    kept = [
        e
        for e in flow["closed_run"].get_asset_check_evaluations()
        if e.asset_key == ALLOCATED and e.check_name != "check_rules_current"
    ]
    assert len(kept) == 2 * len(DAYS)  # contract and conservation, per day: said kept
    assert all(e.passed and e.metadata["kept_booked"].value is True for e in kept)


def test_pending_adjustments_hold_the_would_be_deltas_and_conserve(flow: dict, estate: Estate):
    pending = flow["pending"]
    assert set(pending["x_charge_date"].to_list()) == {DAYS[1]}  # 10-01 keeps its version
    assert pending.height >= 2
    assert set(pending["period"].to_list()) == {"2026-10"}
    for amount in ("billed_cost", "effective_cost"):
        assert sum(pending[f"{amount}_delta"].to_list(), Decimal(0)) == 0
        for row in pending.iter_rows(named=True):
            assert row[f"{amount}_would_be"] - row[f"{amount}_booked"] == row[f"{amount}_delta"]
    cause = pending["cause"][0]
    assert cause.startswith("rule version 2026.11.1") and "-> 2026.11.2" in cause
    assert ";" not in cause  # the inputs read match those recorded at booking: rules only
    # the same figures as the preview of that history (an independent path through preview_day)
    moved = flow["preview"].filter(pl.col("billed_cost_delta") != 0)
    assert sorted(zip(moved["x_business_unit"], moved["billed_cost_delta"], strict=True)) == sorted(
        zip(pending["x_business_unit"], pending["billed_cost_delta"], strict=True)
    )


def test_an_fx_change_on_a_closed_day_waits_too_with_its_cause(flow: dict):
    fx = flow["fx"]
    assert fx["run"].success and fx["allocated_unchanged"]
    pending = fx["pending"]
    assert not pending.is_empty()
    assert set(pending["cause"].to_list()) == {"fx_change (exchange rates changed)"}
    # the day's total moved by the FX change: the deltas add up to it, exactly
    assert sum(pending["billed_cost_delta"].to_list(), Decimal(0)) == FX_BUMP
    assert sum(pending["effective_cost_delta"].to_list(), Decimal(0)) == FX_BUMP


def test_the_check_warns_on_the_closed_day_naming_the_period(flow: dict):
    warnings = _warnings(flow["closed_run"])
    assert set(warnings) == set(KEYS)
    assert warnings[KEYS[0]].passed
    warned = warnings[KEYS[1]]
    assert not warned.passed
    assert warned.severity == dg.AssetCheckSeverity.WARN
    message = warned.metadata["message"].value
    assert "period 2026-10 is closed" in message and "finops reopen 2026-10" in message


def test_the_closed_day_is_one_cloudevent_through_the_outbox(flow: dict):
    [event] = flow["events"]
    assert event["specversion"] == "1.0" and event["subject"] == "period/2026-10"
    assert event["data"]["day"] == KEYS[1]
    pending = flow["pending"]
    sent = {u["business_unit"]: Decimal(u["billed_cost_delta"]) for u in event["data"]["units"]}
    assert sent == dict(zip(pending["x_business_unit"], pending["billed_cost_delta"], strict=True))


def test_after_reopen_the_figures_move_and_nothing_is_pending(flow: dict):
    assert flow["reopen_run"].success
    closed, reopened, pending = flow["closed"], flow["reopened"], flow["pending"]
    assert reopened["delta_version"] > closed["delta_version"]
    assert reopened["data_versions"][0] == closed["data_versions"][0]  # 10-01: same version
    assert reopened["data_versions"][1] != closed["data_versions"][1]
    day = reopened["rows"].filter(pl.col("x_charge_date") == DAYS[1])
    by_unit = day.group_by("x_business_unit").agg(pl.col("x_billed_cost_base").sum())
    now = dict(by_unit.iter_rows())
    for row in pending.iter_rows(named=True):  # booked now = what was pending as would-be
        assert now[row["x_business_unit"]] == row["billed_cost_would_be"]
    assert flow["pending_after"].is_empty()
    assert all(w.passed for w in _warnings(flow["reopen_run"]).values())


def test_the_audit_holds_the_close_and_the_reopen(flow: dict):
    rows = flow["audit"].filter(pl.col("period") == "2026-10")
    assert rows.select("action", "by", "reason").rows() == [
        ("close", "controller", "month-end"),
        ("reopen", "cfo", "FIN-9: tax split"),
    ]


def test_a_closed_day_never_booked_fails_naming_the_period(flow: dict):
    result = flow["never_booked"]
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    text = str(failure.step_failure_data.error)
    assert "2026-11-01" in text and "period 2026-11 is closed" in text, text


LOCKED_HISTORY = history_text(
    (SHIPPED_RULES_PATH.read_text(encoding="utf-8"), {"effective_from": "2026-10-01"}),
    (
        bumped_rules_text().replace('version: "2026.11.2"', 'version: "2026.11.3-fx"')
        + "fx: {policy: month_locked, rate_day: first_business_day}\n",
        {"effective_from": DAYS[1].isoformat()},
    ),
)


@pytest.fixture(scope="module")
def locked_flow(flow: dict, estate: Estate, tmp_path_factory) -> dict:
    """After the flow: close again, a month-locked FX version from 10-02, reopen, re-allocate."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINOPS_HOME", str(estate.home))
        rules = tmp_path_factory.mktemp("locked") / "rules.yaml"
        rules.write_text(LOCKED_HISTORY, encoding="utf-8")
        defs = definitions_with_rules(rules)
        assert main(["close", "2026-10", "--by", "controller"]) == 0
        assert run_assets(defs, estate.instance, ["allocation_rules"], []).success
        closed = run_assets(defs, estate.instance, ALLOCATE, DAYS)
        pending = estate.lake.read_days(tables.PENDING_ADJUSTMENTS, DAYS)
        assert main(["reopen", "2026-10", "--by", "cfo", "--reason", "FIN-10: locked FX"]) == 0
        reopened = run_assets(defs, estate.instance, ALLOCATE, DAYS)
        booked = estate.lake.read_day(tables.ALLOCATED_COSTS, DAYS[1])
    return {"closed": closed, "pending": pending, "reopened": reopened, "booked": booked}


def test_a_month_locked_fx_version_is_pending_at_the_rates_it_will_book(locked_flow: dict):
    assert locked_flow["closed"].success and locked_flow["reopened"].success
    pending = locked_flow["pending"]
    assert set(pending["x_charge_date"].to_list()) == {DAYS[1]}
    assert pending["cause"][0].startswith("rule version 2026.11.2")
    booked = locked_flow["booked"]
    assert set(booked["x_fx_rate_date"].drop_nulls().to_list()) == {dt.date(2026, 10, 1)}
    now = dict(
        booked.group_by("x_business_unit").agg(pl.col("x_billed_cost_base").sum()).iter_rows()
    )
    for row in pending.iter_rows(named=True):  # what was pending is exactly what was booked
        assert now[row["x_business_unit"]] == row["billed_cost_would_be"], row
