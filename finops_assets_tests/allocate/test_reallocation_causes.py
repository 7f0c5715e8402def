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
    assert first.run_requests and len(first.run_requests) == 1
    subset = first.run_requests[0].asset_graph_subset
    requested = {(k.to_user_string(), p) for k, p in subset.iterate_asset_partitions()}
    assert requested == {
        (key, day) for key in ("allocated_costs", "cost_by_business_unit") for day in DAYS
    }
    assert not again.run_requests
