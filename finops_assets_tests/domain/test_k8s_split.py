"""k8s_usage driver options: AWS 9:1 resource-unit weights, share basis, shared namespaces."""

from decimal import Decimal as D

import polars as pl
import pytest

from finops_assets.domain.k8s import namespace_weights, parse_k8s_pod_usage
from finops_assets.domain.k8s_split import AWS_SPLIT, K8sSplit, parse_k8s_split
from finops_assets.domain.rules import SHIPPED_RULES_PATH, RulesError, load_rules, load_rules_file
from finops_assets_tests.domain.test_k8s import HEADER, KOKU_FILE, line

GIB = 2**30
DEMO_SPLIT = K8sSplit(D(1), D(1), "shares")


def usage(*rows: tuple[str, str, str, str, str]) -> pl.DataFrame:
    """(namespace, cpu usage, cpu request, memory usage, memory request) per pod."""
    text = HEADER + "".join(line(ns, f"p{i}", *vals) for i, (ns, *vals) in enumerate(rows))
    return parse_k8s_pod_usage(text.encode(), "c_pod_usage.csv")


def weights(frame: pl.DataFrame) -> dict[str, D]:
    return {ns: w for _, ns, w in frame.rows()}


def test_default_is_aws_nine_to_one_per_core_and_gib_of_max_request_usage() -> None:
    # a: max(10, 30) = 30 core-s -> 270 units; b: max(0, 270 GiB-s) memory -> 270 units.
    frame = usage(("a", "10", "30", "0", "0"), ("b", "0", "0", "1", str(270 * GIB)))
    assert weights(namespace_weights(frame)) == {"a": D("0.5"), "b": D("0.5")}
    assert weights(namespace_weights(frame, AWS_SPLIT)) == {"a": D("0.5"), "b": D("0.5")}
    # The same frame on the old share basis at 1:1: each namespace holds one whole resource.
    assert weights(namespace_weights(frame, DEMO_SPLIT)) == {"a": D("0.5"), "b": D("0.5")}
    # 1:1 per unit: memory dominates (270 GiB-s vs 30 core-s): 30/300 and 270/300.
    units_1_1 = K8sSplit(D(1), D(1), "resource_units")
    assert weights(namespace_weights(frame, units_1_1)) == {"a": D("0.1"), "b": D("0.9")}


def test_share_basis_weights_the_resource_shares() -> None:
    frame = usage(("a", "10", "30", "5", "0"), ("b", "10", "0", "1", "15"))
    # cpu shares 0.75/0.25, memory shares 0.25/0.75.
    assert weights(namespace_weights(frame, DEMO_SPLIT)) == {"a": D("0.5"), "b": D("0.5")}
    nine_one = K8sSplit(D(9), D(1), "shares")
    assert weights(namespace_weights(frame, nine_one)) == {"a": D("0.7"), "b": D("0.3")}


def test_shared_namespaces_spread_proportionally_or_evenly() -> None:
    frame = usage(
        ("a", "60", "0", "0", "0"), ("b", "20", "0", "0", "0"), ("kube-system", "20", "0", "0", "0")
    )
    proportional = K8sSplit(shared_namespaces=("kube-system",))
    assert weights(namespace_weights(frame, proportional)) == {"a": D("0.75"), "b": D("0.25")}
    even = K8sSplit(shared_namespaces=("kube-system",), shared_split="even")
    assert weights(namespace_weights(frame, even)) == {"a": D("0.7"), "b": D("0.3")}
    assert weights(namespace_weights(frame)) == {
        "a": D("0.6"),
        "b": D("0.2"),
        "kube-system": D("0.2"),
    }


def test_koku_public_pod_usage_default_and_shared_namespace_sum_to_one(shared_data) -> None:
    koku = parse_k8s_pod_usage((shared_data / KOKU_FILE).read_bytes(), KOKU_FILE)
    for split in (AWS_SPLIT, DEMO_SPLIT, K8sSplit(shared_namespaces=("namespace_qa",))):
        frame = namespace_weights(koku, split)
        totals = frame.group_by("x_charge_date").agg(pl.col("weight").sum())["weight"]
        assert totals.len() > 0
        assert all(abs(t - 1) <= D("1e-17") for t in totals)
    # 9:1 per unit and the 1:1 share blend give different weights on the real file.
    aws = namespace_weights(koku, AWS_SPLIT)["weight"].to_list()
    assert aws != namespace_weights(koku, DEMO_SPLIT)["weight"].to_list()
    only_ci = namespace_weights(koku, K8sSplit(shared_namespaces=("namespace_qa",)))
    assert set(only_ci["namespace"]) == {"namespace_ci"}
    assert set(only_ci["weight"]) == {D(1)}


def test_options_parse_strictly() -> None:
    assert parse_k8s_split(None) == AWS_SPLIT
    parsed = parse_k8s_split(
        {
            "weights": {"cpu": 1, "memory": 1},
            "basis": "shares",
            "shared_namespaces": ["Kube-System"],
            "shared_split": "even",
        }
    )
    assert parsed == K8sSplit(D(1), D(1), "shares", ("kube-system",), "even")
    for bad, message in [
        ({"weights": {"cpu": -1}}, "k8s.weights.cpu"),
        ({"weights": {"cpu": 0, "memory": 0}}, "both be 0"),
        ({"basis": "pods"}, "k8s.basis"),
        ({"shared_split": "fixed"}, "k8s.shared_split"),
        ({"shared_namespaces": "kube-system"}, "k8s.shared_namespaces"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_k8s_split(bad)


def test_empty_usage_gives_no_weights() -> None:
    assert namespace_weights(usage(), AWS_SPLIT).is_empty()


RULES_HEAD = """
version: "k1"
business_units: [alpha, beta]
hierarchy:
  - {id: ns-a, match: {k8s_namespace: a}, business_unit: alpha}
  - {id: ns-b, match: {k8s_namespace: b}, business_unit: beta}
shared:
"""


def test_rules_declare_k8s_options_on_the_k8s_usage_driver_only() -> None:
    plain = load_rules(RULES_HEAD + "  - {id: k, driver: k8s_usage}\n")
    assert plain.shared[0].k8s == AWS_SPLIT
    declared = load_rules(
        RULES_HEAD + "  - id: k\n    driver: k8s_usage\n    k8s: {weights: {cpu: 1, memory: 1},"
        " basis: shares, shared_namespaces: [kube-system], shared_split: even}\n"
    )
    assert declared.shared[0].k8s == K8sSplit(D(1), D(1), "shares", ("kube-system",), "even")
    assert declared.content_hash != plain.content_hash
    for body, message in [
        ("  - {id: k, driver: even, k8s: {basis: shares}}\n", "only apply to driver k8s_usage"),
        ("  - {id: k, driver: k8s_usage, k8s: {basis: pods}}\n", "basis"),
        ("  - {id: k, driver: k8s_usage, k8s: {weights: {tpu: 1}}}\n", "tpu"),
        ("  - {id: k, driver: k8s_usage, k8s: {idle: spread}}\n", "idle"),
        ("  - {id: k, driver: k8s_usage, k8s: {idle: keep}}\n", "unknown business unit 'idle'"),
        ("  - {id: k, driver: k8s_usage, k8s: {idle: {namespaces: []}}}\n", "idle"),
        ("  - {id: k, driver: k8s_usage, k8s: {weights: {cpu: -2}}}\n", "k8s.weights.cpu"),
    ]:
        with pytest.raises(RulesError, match=message):
            load_rules(RULES_HEAD + body)


def test_shipped_demo_rule_keeps_its_one_to_one_share_split() -> None:
    shipped = {rule.id: rule for rule in load_rules_file(SHIPPED_RULES_PATH).shared}
    assert shipped["gke-shared-cluster"].k8s == DEMO_SPLIT


def test_rules_idle_keep_adds_its_unit_to_the_pool_and_gpu_weight_parses() -> None:
    head = RULES_HEAD.replace("[alpha, beta]", "[alpha, beta, k8s-idle]")
    body = (
        "  - id: k\n    driver: k8s_usage\n    targets: [alpha, beta]\n"
        "    k8s: {weights: {gpu: 45}, idle: {keep: k8s-idle}}\n"
    )
    rule = load_rules(head + body).shared[0]
    assert rule.targets == ("alpha", "beta", "k8s-idle")
    assert (rule.k8s.idle, rule.k8s.idle_unit, rule.k8s.gpu_weight) == ("keep", "k8s-idle", D(45))
    even = load_rules(head + "  - {id: k, driver: k8s_usage, k8s: {idle: even}}\n").shared[0]
    assert even.k8s.idle == "even" and even.k8s.gpu_weight == D(90)
