"""The k8s_usage driver's options through the allocated_costs asset (real Delta, temp instance).

The shipped demo rule (1:1 share blend) against AWS's default 9:1 split with the etl-jobs
namespace declared shared and spread evenly: the cluster's pool moves between units, and every
day's pool and every day's total stay exactly what they were, to the cent.
"""

from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.k8s import namespace_weights
from finops_assets.domain.k8s_idle import IDLE_NAMESPACE
from finops_assets.domain.rules import load_rules_file
from finops_assets.storage import tables
from finops_assets_tests.allocate.conftest import DAYS, Estate, run_assets
from finops_assets_tests.allocate.rules_change import definitions_with_rules, write_shipped_rules

pytestmark = pytest.mark.slow

RULE = "gke-shared-cluster"
DEMO_OPTIONS = "k8s: {weights: {cpu: 1, memory: 1}, basis: shares}"
AWS_SHARED = "k8s: {shared_namespaces: [etl-jobs], shared_split: even}"


def _pool_by_unit(estate: Estate) -> dict[tuple, Decimal]:
    """(day, unit) -> EffectiveCost the cluster's pool gave that unit; plus (day, '*') totals."""
    result: dict[tuple, Decimal] = {}
    for day in DAYS:
        frame = estate.lake.read_day(tables.ALLOCATED_COSTS, day)
        pool = frame.filter(pl.col("x_allocation_rule_id") == RULE)
        for unit, cost in (
            pool.group_by("x_business_unit").agg(pl.col("EffectiveCost").sum()).rows()
        ):
            result[(day, unit)] = cost
        result[(day, "*")] = pool["EffectiveCost"].sum()
        result[(day, "all")] = frame["EffectiveCost"].sum()
        result[(day, "drivers")] = frozenset(pool["x_allocation_driver"].unique().to_list())
    return result


def test_aws_default_with_a_shared_namespace_moves_the_pool_and_conserves_each_day(
    estate: Estate, tmp_path
):
    rules = write_shipped_rules(tmp_path / "rules.yaml")
    defs = definitions_with_rules(rules)
    assert run_assets(
        defs, estate.instance, ["allocation_rules", "applicable_rules", "allocated_costs"], DAYS
    ).success
    before = _pool_by_unit(estate)
    text = rules.read_text(encoding="utf-8")
    assert DEMO_OPTIONS in text
    rules.write_text(text.replace(DEMO_OPTIONS, AWS_SHARED), encoding="utf-8")
    assert run_assets(
        defs, estate.instance, ["allocation_rules", "applicable_rules", "allocated_costs"], DAYS
    ).success
    after = _pool_by_unit(estate)
    for day in DAYS:
        assert before[(day, "*")] > 0 and before[(day, "drivers")] == {"k8s_usage"}
        assert after[(day, "*")] == before[(day, "*")]  # the pool, exactly
        assert after[(day, "all")] == before[(day, "all")]  # the day, exactly
        assert before.get((day, "data-platform"), Decimal(0)) > 0
        assert (day, "data-platform") not in after  # etl-jobs is shared: spread, not charged
        moved = {u for (d, u) in before if d == day and before[(d, u)] != after.get((d, u))}
        assert {"payments", "search", "ml-research"} <= moved
    write_shipped_rules(rules)
    assert run_assets(
        defs, estate.instance, ["allocation_rules", "applicable_rules", "allocated_costs"], DAYS
    ).success
    assert _pool_by_unit(estate) == before  # back to the demo rule: the same figures again


UNITS = "business_units: [payments, search, data-platform, marketing-web, ml-research]"
KEEP_IDLE = "k8s: {idle: {keep: k8s-idle}}"
POOL_UNITS = {"payments", "search", "ml-research", "data-platform", "k8s-idle"}


def test_kept_idle_is_a_line_with_its_amount_and_each_day_is_conserved(estate: Estate, tmp_path):
    rules = write_shipped_rules(tmp_path / "rules.yaml")
    defs = definitions_with_rules(rules)
    assert run_assets(
        defs, estate.instance, ["allocation_rules", "applicable_rules", "allocated_costs"], DAYS
    ).success
    before = _pool_by_unit(estate)
    text = rules.read_text(encoding="utf-8")
    assert UNITS in text and DEMO_OPTIONS in text
    text = text.replace(UNITS, UNITS.replace("]", ", k8s-idle]")).replace(DEMO_OPTIONS, KEEP_IDLE)
    rules.write_text(text, encoding="utf-8")
    assert run_assets(
        defs, estate.instance, ["allocation_rules", "applicable_rules", "allocated_costs"], DAYS
    ).success
    after = _pool_by_unit(estate)
    loaded = load_rules_file(rules)
    split = next(r for r in loaded.shared if r.id == RULE).k8s
    counted = {*loaded.namespace_units(), IDLE_NAMESPACE}  # unmapped namespaces are left out
    for day in DAYS:
        usage = estate.lake.read_day(tables.K8S_USAGE_RAW, day)
        assert usage["node_capacity_cpu_core_seconds"].null_count() == 0  # the sample carries it
        weights = namespace_weights(usage, split).filter(pl.col("namespace").is_in(counted))
        idle = weights.filter(pl.col("namespace") == IDLE_NAMESPACE)["weight"][0]
        share = idle / weights["weight"].sum()
        assert Decimal("0") < share < Decimal("1")
        assert after[(day, "*")] == before[(day, "*")]  # the cluster's pool, exactly
        assert after[(day, "all")] == before[(day, "all")]  # the whole day, exactly
        kept = after[(day, "k8s-idle")]
        rows = estate.lake.read_day(tables.ALLOCATED_COSTS, day).filter(
            (pl.col("x_allocation_rule_id") == RULE) & (pl.col("x_business_unit") == "k8s-idle")
        )
        assert rows.height > 0 and kept > 0
        assert abs(kept - after[(day, "*")] * share) < Decimal("0.01")  # its share, to the cent
        assert (
            sum(v for (d, u), v in after.items() if d == day and u in POOL_UNITS)
            == after[(day, "*")]
        )
    write_shipped_rules(rules)
    assert run_assets(
        defs, estate.instance, ["allocation_rules", "applicable_rules", "allocated_costs"], DAYS
    ).success
    assert _pool_by_unit(estate) == before  # the demo rule again: no idle line, same figures
