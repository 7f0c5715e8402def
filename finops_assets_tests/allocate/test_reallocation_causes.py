"""reallocation_sensor reacts to rule changes only, never to upstream data arriving.

A three-asset graph with the product's keys (allocation_rules, normalized_costs,
allocated_costs) on a real temp instance: fast, and the staleness is Dagster's own.
"""

import dagster as dg

from finops_assets.allocate.sensors import reallocation_sensor, stale_allocated_partitions
from finops_assets.partitions import daily_partitions

DAYS = ["2026-10-01", "2026-10-02"]
VERSION = {"rules": "r1", "normalized": {}}


@dg.asset
def allocation_rules() -> dg.MaterializeResult:
    return dg.MaterializeResult(data_version=dg.DataVersion(VERSION["rules"]))


@dg.asset(partitions_def=daily_partitions)
def normalized_costs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    version = VERSION["normalized"].get(context.partition_key, "n1")
    return dg.MaterializeResult(data_version=dg.DataVersion(version))


@dg.asset(partitions_def=daily_partitions, deps=[allocation_rules, normalized_costs])
def allocated_costs() -> None:
    return None


@dg.asset(partitions_def=daily_partitions, deps=[allocated_costs])
def cost_by_business_unit() -> None:
    return None


ASSETS = [allocation_rules, normalized_costs, allocated_costs, cost_by_business_unit]
DEFS = dg.Definitions(assets=ASSETS, sensors=[reallocation_sensor])


def _materialize(instance, assets, day=None):
    assert dg.materialize(assets, instance=instance, partition_key=day).success


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, repository_def=DEFS.get_repository_def(), cursor=cursor
    )
    return reallocation_sensor.evaluate_tick(context)


def _history(instance):
    _materialize(instance, [allocation_rules])
    for day in DAYS:
        _materialize(instance, [normalized_costs, allocated_costs, cost_by_business_unit], day)


def test_new_upstream_data_makes_a_day_stale_but_requests_nothing():
    VERSION.update(rules="r1", normalized={})
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


def test_a_rule_change_requests_exactly_the_rule_stale_days_once():
    VERSION.update(rules="r1", normalized={})
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
        (key, day) for key in ("allocated_costs", "cost_by_business_unit") for day in DAYS
    }
    assert not again.run_requests
    assert not midway.run_requests
    [request] = changed_again.run_requests
    days = {p for _, p in request.asset_graph_subset.iterate_asset_partitions()}
    assert days == set(DAYS)


def _checks(result) -> dict[str, tuple[bool, list[str]]]:
    return {
        e.asset_key.to_user_string(): (e.passed, e.metadata["days"].value)
        for e in result.asset_events
        if e.check_name == "check_rules_current"
    }


def test_reports_after_allocated_costs_show_the_days_behind_the_rules_until_reallocated():
    VERSION.update(rules="r1", normalized={})
    with dg.instance_for_test() as instance:
        _history(instance)
        quiet = _tick(instance)
        VERSION["rules"] = "r2"
        _materialize(instance, [allocation_rules])
        changed = _tick(instance, quiet.cursor)
        # the same rules materialized again: still the change above that counts
        _materialize(instance, [allocation_rules])
        unchanged = _tick(instance, changed.cursor)
        _materialize(instance, [allocated_costs, cost_by_business_unit], DAYS[0])
        _materialize(instance, [allocated_costs], DAYS[1])
        partly = _tick(instance, unchanged.cursor)
        _materialize(instance, [cost_by_business_unit], DAYS[1])
        done = _tick(instance, partly.cursor)
    assert _checks(quiet) == {}
    assert _checks(changed) == {
        "allocated_costs": (False, DAYS),
        "cost_by_business_unit": (False, DAYS),
    }
    assert _checks(unchanged) == {}
    # a report day stays behind until it is re-run itself, though allocated_costs caught up
    assert _checks(partly) == {
        "allocated_costs": (True, []),
        "cost_by_business_unit": (False, DAYS[1:]),
    }
    assert _checks(done) == {"cost_by_business_unit": (True, [])}


def test_rule_currency_checks_cover_everything_after_allocated_costs_and_say_what_they_mean():
    from finops_assets.allocate.rule_currency import FOLLOWERS, check_rules_current
    from finops_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    after = dg.AssetSelection.assets("allocated_costs").downstream().resolve(graph)
    assert set(FOLLOWERS) == {k.to_user_string() for k in after}
    specs = list(check_rules_current.check_specs)
    assert len(specs) == len(FOLLOWERS)
    assert all(spec.description for spec in specs)
