"""Kubernetes idle through allocate_costs: a visible idle line, exact to the cent, or unknown."""

from decimal import Decimal as D

import polars as pl

from finops_assets.domain.allocate import allocate_costs
from finops_assets.domain.rules import load_rules
from finops_assets_tests.domain.test_allocate import frame
from finops_assets_tests.domain.test_k8s_idle import CAP, HOUR0
from finops_assets_tests.domain.test_k8s_idle import frame as usage_frame

RULES = """
version: "i1"
business_units: [alpha, beta, k8s-idle]
hierarchy:
  - {id: ns-a, priority: 20, match: {k8s_namespace: a}, business_unit: alpha}
  - {id: ns-b, priority: 20, match: {k8s_namespace: b}, business_unit: beta}
shared:
  - id: cluster
    priority: 10
    match: {sub_account_id: "997"}
    driver: k8s_usage
    targets: [alpha, beta]
    k8s: {idle: IDLE}
"""
COSTS = ("100.00", "33.33", "0.01", "7.77")


def _allocate(idle: str, capacity: str = CAP, a_cpu: str = "9000") -> pl.DataFrame:
    rules = load_rules(RULES.replace("IDLE", idle))
    usage = usage_frame(
        [f"p1,a,n1,{HOUR0},{a_cpu},0,0,0,{capacity}", f"p2,b,n1,{HOUR0},0,9000,0,0,{capacity}"]
    )
    rows = frame([{"SubAccountId": "997", "cost": c} for c in COSTS])
    return allocate_costs(rows, rules, usage)


def _by_unit(allocated: pl.DataFrame) -> dict[str, D]:
    sums = allocated.group_by("x_business_unit").agg(pl.col("EffectiveCost").sum())
    return dict(sums.rows())


def test_kept_idle_is_its_own_line_and_the_cluster_is_conserved_to_the_cent() -> None:
    allocated = _allocate("{keep: k8s-idle}")
    units = _by_unit(allocated)
    total = sum(D(c) for c in COSTS)  # 141.11
    assert sum(units.values()) == total  # exact, Decimal
    for key, rows in allocated.group_by("x_source_row_key"):
        assert rows["EffectiveCost"].sum() == D(COSTS[int(key[0][1:])])  # every row, exactly
    # Idle 0.55 (198,000 of 360,000 units), a and b 0.225 each: each row split to the cent.
    assert set(units) == {"alpha", "beta", "k8s-idle"}
    assert abs(units["k8s-idle"] - total * D("0.55")) <= D("0.01") * len(COSTS)
    assert units["k8s-idle"] == D("77.6105")  # 141.11 x 0.55, exact at the lake's scale
    assert set(allocated["x_allocation_driver"]) == {"k8s_usage"}


def test_idle_even_or_proportional_has_no_idle_line() -> None:
    # a holds 27,000 core-s, b 9,000: CPU full, memory idle -> a 0.675, b 0.225, idle 0.1.
    proportional = _by_unit(_allocate("proportional", a_cpu="27000"))
    assert proportional == {"alpha": D("105.8325"), "beta": D("35.2775")}  # 0.75 / 0.25
    even = _by_unit(_allocate("even", a_cpu="27000"))
    assert even == {"alpha": D("102.3047500000"), "beta": D("38.8052500000")}  # 0.725 / 0.275
    kept = _by_unit(_allocate("{keep: k8s-idle}", a_cpu="27000"))
    assert kept["k8s-idle"] == D("14.111")  # 0.1
    for units in (proportional, even, kept):
        assert sum(units.values()) == sum(D(c) for c in COSTS)


def test_unknown_capacity_splits_over_pods_and_says_so() -> None:
    allocated = _allocate("{keep: k8s-idle}", capacity=",")
    units = _by_unit(allocated)
    assert set(units) == {"alpha", "beta"}  # no idle line: idle is not guessed
    assert sum(units.values()) == sum(D(c) for c in COSTS)
    assert set(allocated["x_allocation_driver"]) == {"k8s_usage(idle unknown: no node capacity)"}
    details = allocated["AllocatedMethodDetails"][0]
    assert "idle unknown" in details
