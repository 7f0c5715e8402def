"""Driver weights of shared pools: measured drivers, fixed, even, fallback, k8s idle spread."""

import datetime as dt
from decimal import Decimal as D

import polars as pl

from finops_assets.domain.allocate_drivers import measured_weights, pool_shares
from finops_assets.domain.k8s import K8S_USAGE_COLUMNS
from finops_assets.domain.k8s_split import K8sSplit
from finops_assets.domain.rules import load_rules

DAY = dt.date(2026, 11, 1)
RULES = load_rules(
    """
version: "d1"
business_units: [alpha, beta, gamma]
hierarchy:
  - {id: ns-gamma, priority: 20, match: {k8s_namespace: Gamma-NS}, business_unit: gamma}
  - {id: ns-beta, priority: 20, match: {k8s_namespace: beta-ns}, business_unit: beta}
shared:
  - {id: k8s, priority: 10, match: {sub_account_id: "997"}, driver: k8s_usage}
  - {id: cc, priority: 10, match: {sub_account_id: "996"}, driver: compute_cost,
     targets: [beta, alpha]}
  - {id: fx, priority: 10, match: {sub_account_id: "995"}, driver: fixed,
     percentages: {alpha: 50, gamma: 50}}
"""
)
BY_ID = {rule.id: rule for rule in RULES.shared}
K8S, COMPUTE, FIXED = BY_ID["k8s"], BY_ID["cc"], BY_ID["fx"]
DIRECT = pl.DataFrame(
    {
        "x_charge_date": [DAY] * 4,
        "_unit": ["alpha", "beta", "gamma", "beta"],
        "ServiceCategory": ["Compute", "Compute", "Compute", "Networking"],
        "x_effective_cost_base": [D("1.00"), D("3.00"), D("100.00"), D("-50.00")],
        "ConsumedQuantity": [D(1), D(1), D(1), D(2048)],
        "ConsumedUnit": ["Hrs", "Hrs", "Hrs", "MB"],
    },
    schema_overrides={c: pl.Decimal(38, 10) for c in ("x_effective_cost_base", "ConsumedQuantity")},
)


def as_dict(frame: pl.DataFrame) -> dict[str, D]:
    return {unit: weight for _, unit, weight in frame.rows()}


def test_measured_drivers_per_unit() -> None:
    assert as_dict(measured_weights(DIRECT, "compute_cost", RULES, None)) == {
        "alpha": D(1),
        "beta": D(3),
        "gamma": D(100),
    }
    assert as_dict(measured_weights(DIRECT, "network_bytes", RULES, None)) == {"beta": D("2.048")}
    assert measured_weights(DIRECT, "request_share", RULES, None).is_empty()


def test_pool_shares_respect_targets_fixed_and_fallback() -> None:
    label, shares = pool_shares(COMPUTE, {"alpha": D(1), "beta": D(3), "gamma": D(100)})
    assert label == "compute_cost" and shares == {"alpha": D("0.25"), "beta": D("0.75")}
    assert pool_shares(FIXED, {})[1] == {"alpha": D("0.5"), "gamma": D("0.5")}
    label, shares = pool_shares(COMPUTE, {"alpha": D(-5)})
    assert label == "even(fallback:compute_cost)"
    assert shares == {"alpha": D("0.5"), "beta": D("0.5")}
    assert sum(pool_shares(K8S, {})[1].values()) == 1  # thirds, exact to 1


def test_k8s_usage_maps_namespaces_and_spreads_idle() -> None:
    data = {
        "x_charge_date": [DAY] * 3,
        "cluster": ["c"] * 3,
        "namespace": ["gamma-ns", "beta-ns", "kube-system"],
        "pod": ["p1", "p2", "p3"],
        "node": ["n"] * 3,
        "cpu_usage_core_seconds": [D(30), D(10), D(60)],
        "cpu_request_core_seconds": [D(10), D(10), D(0)],
        "memory_usage_byte_seconds": [D(10), D(30), D(0)],
        "memory_request_byte_seconds": [D(0), D(0), D(60)],
        "x_source_file": ["f"] * 3,
        "x_source_line": [2, 3, 4],
    }
    # A lake written before node capacity and GPUs: those columns read as null.
    old = pl.DataFrame(data, schema={c: K8S_USAGE_COLUMNS[c] for c in data})
    usage = pl.concat([pl.DataFrame(schema=K8S_USAGE_COLUMNS), old], how="diagonal")
    one_to_one = K8sSplit(D(1), D(1), "shares")
    measured = as_dict(measured_weights(DIRECT, "k8s_usage", RULES, usage, one_to_one))
    # gamma: 0.5*0.3 + 0.5*0.1; beta: 0.5*0.1 + 0.5*0.3; kube-system (0.6) is idle.
    assert measured == {"beta": D("0.2"), "gamma": D("0.2")}
    # The rule's default (AWS 9 per core : 1 per GiB): a few bytes weigh nothing, CPU decides.
    default = as_dict(measured_weights(DIRECT, "k8s_usage", RULES, usage, K8S.k8s))
    assert default == {"beta": D("0.1"), "gamma": D("0.3")}
    label, shares = pool_shares(K8S, measured)
    assert label == "k8s_usage" and shares == {"beta": D("0.5"), "gamma": D("0.5")}
    assert pool_shares(K8S, {})[0] == "even(fallback:k8s_usage)"


def test_request_share_counts_request_units_only() -> None:
    requests = pl.DataFrame(
        {
            "x_charge_date": [DAY] * 3,
            "_unit": ["alpha", "beta", "alpha"],
            "ServiceCategory": ["Networking"] * 3,
            "x_effective_cost_base": [D("1.00")] * 3,
            "ConsumedQuantity": [D(300), D(100), D(5)],
            "ConsumedUnit": ["Requests", "API Request", "GB"],
        },
        schema_overrides={
            c: pl.Decimal(38, 10) for c in ("x_effective_cost_base", "ConsumedQuantity")
        },
    )
    assert as_dict(measured_weights(requests, "request_share", RULES, None)) == {
        "alpha": D(300),
        "beta": D(100),
    }
