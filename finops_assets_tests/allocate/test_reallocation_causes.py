"""reallocation_sensor reacts to rule changes only, never to upstream data arriving.

A small graph with the product's keys (allocation_rules, applicable_rules, normalized_costs,
allocated_costs) on a real temp instance: fast, and the staleness is Dagster's own. As in the
product, allocation_rules reports its version windows (here one version for every day) and
applicable_rules records per day the version that applies.
"""

import datetime as dt

import dagster as dg
import pytest

from finops_assets.allocate.rule_currency import (
    CHECK,
    rule_currency_check,
    rule_currency_events,
)
from finops_assets.allocate.sensors import reallocation_sensor, stale_allocated_partitions
from finops_assets.dagster_private import latest_check_results
from finops_assets.domain.rule_history import version_for_day
from finops_assets.partitions import daily_partitions

DAYS = ["2026-10-01", "2026-10-02"]
VERSION: dict = {"rules": "r1", "normalized": {}, "from": None}


@dg.asset
def allocation_rules(context: dg.AssetExecutionContext):
    """As the product's: reports its version windows, then fails the days they left behind."""
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(VERSION["rules"] + str(VERSION["from"] or "")),
        metadata={"windows": dg.MetadataValue.json(_windows())},
    )
    yield from rule_currency_events(context.instance, [dg.AssetKey(a) for a in FOLLOWING])


def _windows() -> list[dict]:
    """One version for every day, or r1 until the day before VERSION["from"] and then rules."""
    if VERSION["from"] is None:
        return [{"data_version": VERSION["rules"], "applies_from": None, "effective_to": None}]
    return [
        {"data_version": "r1", "applies_from": None, "effective_to": None},
        {"data_version": VERSION["rules"], "applies_from": VERSION["from"], "effective_to": None},
    ]


@dg.asset(partitions_def=daily_partitions, deps=[allocation_rules])
def applicable_rules(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """As the product's: the day's applicable version is its data version."""
    version = version_for_day(_windows(), dt.date.fromisoformat(context.partition_key))
    return dg.MaterializeResult(data_version=dg.DataVersion(str(version)))


@dg.asset(partitions_def=daily_partitions)
def normalized_costs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    version = VERSION["normalized"].get(context.partition_key, "n1")
    return dg.MaterializeResult(data_version=dg.DataVersion(version))


@dg.asset(partitions_def=daily_partitions, deps=[applicable_rules, normalized_costs])
def allocated_costs() -> None:
    return None


@dg.asset(partitions_def=daily_partitions, deps=[allocated_costs])
def cost_by_business_unit() -> None:
    return None


ASSETS = [
    allocation_rules,
    applicable_rules,
    normalized_costs,
    allocated_costs,
    cost_by_business_unit,
]
FOLLOWING = ["allocated_costs", "cost_by_business_unit"]
RULES_CURRENT = rule_currency_check(FOLLOWING)
DEFS = dg.Definitions(assets=ASSETS, sensors=[reallocation_sensor])


def _materialize(instance, assets, day=None, checks=False):
    """Materialize `assets` (for `day`); with `checks`, check_rules_current runs in the run too."""
    keys = {a.key for a in assets}
    following = {dg.AssetKey(a) for a in FOLLOWING}
    check_keys = {dg.AssetCheckKey(k, CHECK) for k in keys & following} if checks else set()
    job = dg.Definitions(
        assets=ASSETS, asset_checks=[RULES_CURRENT]
    ).resolve_implicit_global_asset_job_def()
    result = job.get_subset(
        asset_selection=keys, asset_check_selection=check_keys
    ).execute_in_process(instance=instance, partition_key=day)
    assert result.success
    return result


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, repository_def=DEFS.get_repository_def(), cursor=cursor
    )
    return reallocation_sensor.evaluate_tick(context)


def _history(instance):
    _materialize(instance, [allocation_rules])
    for day in DAYS:
        chain = [applicable_rules, normalized_costs, allocated_costs, cost_by_business_unit]
        _materialize(instance, chain, day)


@pytest.mark.slow
def test_new_upstream_data_makes_a_day_stale_but_requests_nothing():
    VERSION.update(rules="r1", normalized={}, **{"from": None})
    with dg.instance_for_test() as instance:
        _history(instance)
        VERSION["normalized"] = {DAYS[0]: "n2"}
        _materialize(instance, [normalized_costs], DAYS[0])
        graph = DEFS.get_repository_def().asset_graph
        # Dagster does see the day stale (the landing run has not reached allocated_costs yet) ...
        assert stale_allocated_partitions(instance, graph, roots=None) == [DAYS[0]]
        # ... but its cause is data arriving, which the landing run carries downstream itself.
        assert stale_allocated_partitions(instance, graph) == []
        result = _tick(instance)
    assert not result.run_requests
    assert "rule" in (result.skip_message or "")


@pytest.mark.slow
def test_a_rule_change_requests_exactly_the_rule_stale_days_once():
    VERSION.update(rules="r1", normalized={}, **{"from": None})
    with dg.instance_for_test() as instance:
        _history(instance)
        VERSION["normalized"] = {DAYS[0]: "n2"}
        _materialize(instance, [normalized_costs], DAYS[0])
        VERSION["rules"] = "r2"
        _materialize(instance, [allocation_rules])
        first = _tick(instance)
        again = _tick(instance, first.cursor)
        # the backfill writes its days one by one: a shrinking stale set is not a new change
        _materialize(instance, [allocated_costs], DAYS[1])
        midway = _tick(instance, again.cursor)
        # a later rule change is: every day that is stale from it is requested again
        VERSION["rules"] = "r3"
        _materialize(instance, [allocation_rules])
        changed_again = _tick(instance, midway.cursor)
    assert first.run_requests and len(first.run_requests) == 1
    subset = first.run_requests[0].asset_graph_subset
    requested = {(k.to_user_string(), p) for k, p in subset.iterate_asset_partitions()}
    assert requested == {
        (key, day)
        for key in ("applicable_rules", "allocated_costs", "cost_by_business_unit")
        for day in DAYS
    }
    assert not again.run_requests
    assert not midway.run_requests
    [request] = changed_again.run_requests
    days = {p for _, p in request.asset_graph_subset.iterate_asset_partitions()}
    assert days == set(DAYS)


def test_a_rule_change_during_a_tick_is_requested_once(monkeypatch):
    """The rules are materialized while a tick runs, after it read which rules it answers and
    before it computed the stale days (what the operating-model test hit under load): that tick
    and the next together request the change's days once, not in two backfills."""
    import finops_assets.allocate.sensors as sensors

    VERSION.update(rules="r1", normalized={})
    with dg.instance_for_test() as instance:
        _history(instance)
        stale_days = sensors.stale_allocated_partitions

        def rules_change_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
            VERSION["rules"] = "r2"
            _materialize(instance, [allocation_rules])
            monkeypatch.setattr(sensors, "stale_allocated_partitions", stale_days)
            return stale_days(*args, **kwargs)

        monkeypatch.setattr(sensors, "stale_allocated_partitions", rules_change_meanwhile)
        during = _tick(instance)
        after = _tick(instance, during.cursor)
        again = _tick(instance, after.cursor)
    requests = [*(during.run_requests or []), *(after.run_requests or [])]
    assert len(requests) == 1, [r.asset_graph_subset for r in requests]
    days = {p for _, p in requests[0].asset_graph_subset.iterate_asset_partitions()}
    assert days == set(DAYS)
    assert not again.run_requests


def _checks(result) -> dict[tuple[str, str], bool]:
    """(asset, day) -> passed, for each check_rules_current result of a run."""
    return {
        (e.asset_key.to_user_string(), e.partition): e.passed
        for e in result.get_asset_check_evaluations()
        if e.check_name == "check_rules_current"
    }


def _each(assets, days, passed):
    return {(asset, day): passed for asset in assets for day in days}


def _shown(instance) -> dict[str, dict[str, tuple[bool, bool]]]:
    """Per asset and day, the latest check_rules_current result and whether the UI shows it."""
    return {
        asset: latest_check_results(
            instance, dg.AssetCheckKey(dg.AssetKey(asset), "check_rules_current"), DAYS
        )
        for asset in FOLLOWING
    }


@pytest.mark.slow
def test_the_days_a_rule_change_left_behind_fail_per_day_until_each_is_rerun():
    VERSION.update(rules="r1", normalized={}, **{"from": None})
    with dg.instance_for_test() as instance:
        _history(instance)
        first = _materialize(instance, [allocation_rules])  # the rules in force, no change
        VERSION["rules"] = "r2"
        changed = _materialize(instance, [allocation_rules])
        shown_after_change = _shown(instance)
        # the same rules materialized again: still the change above that counts
        unchanged = _materialize(instance, [allocation_rules])
        # one day re-run through both assets with the check, one only through allocated_costs
        chain = [applicable_rules, allocated_costs, cost_by_business_unit]
        day0 = _materialize(instance, chain, DAYS[0], True)
        day1 = _materialize(instance, chain[:2], DAYS[1], True)
        shown_partly = _shown(instance)
        done = _materialize(instance, [cost_by_business_unit], DAYS[1], True)
        shown_done = _shown(instance)
    assert _checks(first) == {}
    assert _checks(changed) == _each(FOLLOWING, DAYS, False)
    # each result names its day and the materialization it judged, so the UI shows it
    assert shown_after_change == {a: {d: (False, True) for d in DAYS} for a in FOLLOWING}
    assert _checks(unchanged) == {}  # already shown failed: nothing is reported twice
    # its own day passes; the other day, still behind, is failed again after it (the catalog
    # shows a check's latest result over all days)
    assert _checks(day0) == {
        **_each(FOLLOWING, DAYS[:1], True),
        **_each(FOLLOWING, DAYS[1:], False),
    }
    assert [e.passed for e in day0.get_asset_check_evaluations()] == [True, True, False, False]
    assert _checks(day1) == {("allocated_costs", DAYS[1]): True}
    # a report day stays behind until it is re-run itself, though allocated_costs caught up
    assert shown_partly == {
        "allocated_costs": {d: (True, True) for d in DAYS},
        "cost_by_business_unit": {DAYS[0]: (True, True), DAYS[1]: (False, True)},
    }
    assert _checks(done) == {("cost_by_business_unit", DAYS[1]): True}
    assert shown_done == {a: {d: (True, True) for d in DAYS} for a in FOLLOWING}


@pytest.mark.slow
def test_a_version_effective_from_the_second_day_leaves_the_first_day_current():
    """Behind means another applicable version than at the day's materialization, not older."""
    VERSION.update(rules="r1", normalized={}, **{"from": None})
    with dg.instance_for_test() as instance:
        _history(instance)
        VERSION.update(rules="r2", **{"from": DAYS[1]})
        changed = _materialize(instance, [allocation_rules])
        shown = _shown(instance)
        tick = _tick(instance)
    assert _checks(changed) == _each(FOLLOWING, DAYS[1:], False)
    # the first day keeps r1: never failed, so nothing is reported for it
    assert shown == {a: {DAYS[1]: (False, True)} for a in FOLLOWING}
    [request] = tick.run_requests
    requested = {
        (k.to_user_string(), p) for k, p in request.asset_graph_subset.iterate_asset_partitions()
    }
    # applicable_rules re-decides both days; only the second is re-allocated
    assert requested == {("applicable_rules", d) for d in DAYS} | {(a, DAYS[1]) for a in FOLLOWING}


@pytest.mark.slow
def test_a_ranged_run_reports_the_check_once_per_day_of_its_range():
    """Inside a single-run backfill the check's result of each day carries that day."""
    VERSION.update(rules="r1", normalized={}, **{"from": None})
    with dg.instance_for_test() as instance:
        _history(instance)
        VERSION["rules"] = "r2"
        _materialize(instance, [allocation_rules])
        job = dg.Definitions(
            assets=ASSETS, asset_checks=[RULES_CURRENT]
        ).resolve_implicit_global_asset_job_def()
        for day in DAYS:  # the product runs it in the same backfill; here a day at a time
            _materialize(instance, [applicable_rules], day)
        keys = {dg.AssetKey(a) for a in FOLLOWING}
        ranged = job.get_subset(asset_selection=keys).execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": DAYS[0],
                "dagster/asset_partition_range_end": DAYS[-1],
            },
        )
        shown = _shown(instance)
    assert ranged.success
    assert _checks(ranged) == _each(FOLLOWING, DAYS, True)
    assert shown == {a: {d: (True, True) for d in DAYS} for a in FOLLOWING}


def test_rule_currency_checks_cover_everything_after_allocated_costs_and_say_what_they_mean():
    from finops_assets.allocate.rule_currency import FOLLOWERS, check_rules_current
    from finops_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    after = dg.AssetSelection.assets("allocated_costs").downstream().resolve(graph)
    assert set(FOLLOWERS) == {k.to_user_string() for k in after}
    specs = list(check_rules_current.check_specs)
    assert len(specs) == len(FOLLOWERS)
    assert all(spec.description for spec in specs)
    assert all(spec.partitions_def == daily_partitions for spec in specs)  # a result per day
