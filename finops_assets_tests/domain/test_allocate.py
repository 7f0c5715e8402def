"""Allocation tiers, exact splits, lineage and determinism on small hand-built frames."""

import datetime as dt
import json
import random
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from finops_assets.domain.allocate import ALLOCATED_COLUMNS, allocate_costs
from finops_assets.domain.allocate_conservation import (
    allocation_coverage,
    conservation_violations,
)
from finops_assets.domain.focus import NORMALIZED_COLUMNS
from finops_assets.domain.money import split_largest_remainder
from finops_assets.domain.rules import (
    SHIPPED_RULES_PATH,
    AmbiguousRuleError,
    load_rules,
    load_rules_file,
)

DAY = dt.date(2026, 11, 1)
D = Decimal
RULES = load_rules(
    """
version: "t1"
business_units: [alpha, beta, gamma]
tag_keys: [cost_center, project]
tag_values: {alpha: alpha, Beta: beta, cc-gamma: gamma}
hierarchy:
  - {id: acct-alpha, priority: 10, match: {sub_account_id: "111"}, business_unit: alpha}
  - {id: acct-beta, priority: 10, match: {sub_account_id: "222"}, business_unit: beta}
  - {id: ns-gamma, priority: 20, match: {k8s_namespace: gamma-ns}, business_unit: gamma}
  - {id: ns-beta, priority: 20, match: {k8s_namespace: beta-ns}, business_unit: beta}
shared:
  - {id: nat, priority: 10, match: {sub_account_id: "999", resource_id_contains: natgateway},
     driver: compute_cost}
  - {id: db, priority: 10, match: {sub_account_id: "998"}, driver: fixed,
     targets: [alpha, beta], percentages: {alpha: 60, beta: 40}}
  - {id: k8s, priority: 10, match: {sub_account_id: "997"}, driver: k8s_usage}
"""
)


def frame(rows: list[dict]) -> pl.DataFrame:
    """Normalized rows with sensible defaults; `cost` sets all four money columns."""
    full = []
    for i, row in enumerate(rows):
        cost = D(str(row.pop("cost", "1.00")))
        base = D(str(row.pop("base", cost)))
        defaults = {
            "x_charge_date": DAY,
            "x_provider": "aws",
            "x_source": "aws_cur",
            "x_source_row_key": f"r{i:04d}",
            "ChargeCategory": "Usage",
            "BillingCurrency": "USD",
            "x_base_currency": "USD",
            "BilledCost": cost,
            "EffectiveCost": cost,
            "x_billed_cost_base": base,
            "x_effective_cost_base": base,
            "ServiceCategory": "Compute",
            "ServiceName": "EC2",
            "SubAccountId": "000",
            "x_tags": "{}",
        }
        defaults.update(row)
        full.append({c: defaults.get(c) for c in NORMALIZED_COLUMNS})
    return pl.DataFrame(full, schema=NORMALIZED_COLUMNS)


def by_unit(allocated: pl.DataFrame, key: str) -> dict[str, dict]:
    rows = allocated.filter(pl.col("x_source_row_key") == key).to_dicts()
    return {r["x_business_unit"]: r for r in rows}


def test_tag_tier_first_key_with_a_known_value_wins() -> None:
    tags = [
        {"cost_center": "ALPHA", "project": "beta"},
        {"cost_center": "nobody", "project": "Beta"},
        {"cost_center": " cc-Gamma "},
    ]
    rows = [{"SubAccountId": "222", "x_tags": json.dumps(t)} for t in tags]
    out = allocate_costs(frame(rows), RULES)
    assert out["x_business_unit"].to_list() == ["alpha", "beta", "gamma"]
    assert out["x_allocation_method"].to_list() == ["tag"] * 3
    assert out["x_allocation_rule_id"].to_list() == [
        "tag:cost_center",
        "tag:project",
        "tag:cost_center",
    ]
    assert out["x_allocation_share"].to_list() == [D(1)] * 3


def test_hierarchy_highest_priority_wins_and_rest_is_unallocated() -> None:
    rows = [
        {"SubAccountId": "111"},
        {"SubAccountId": "111", "x_tags": '{"k8s_namespace": "beta-ns"}'},
        {"SubAccountId": "555"},
    ]
    out = allocate_costs(frame(rows), RULES)
    assert out["x_business_unit"].to_list() == ["alpha", "beta", "unallocated"]
    assert out["x_allocation_method"].to_list() == ["hierarchy", "hierarchy", "unallocated"]
    assert out["x_allocation_rule_id"].to_list() == ["acct-alpha", "ns-beta", None]
    assert out["AllocatedMethodId"].to_list() == ["acct-alpha", "ns-beta", "unallocated"]
    assert out["x_allocation_rule_version"].unique().to_list() == [RULES.data_version]
    details = json.loads(out["AllocatedMethodDetails"][0])
    assert details["method"] == "hierarchy" and details["weights"] == {
        "alpha": "1.000000000000000000"
    }


def test_shared_pool_split_by_compute_cost_with_lineage() -> None:
    rows = [
        {"SubAccountId": "111", "cost": "30.00"},
        {"SubAccountId": "222", "cost": "10.00"},
        {"SubAccountId": "222", "cost": "500.00", "ServiceCategory": "Storage"},
        {"SubAccountId": "999", "ResourceId": "arn:natgateway/nat-1", "cost": "100.01"},
    ]
    out = allocate_costs(frame(rows), RULES)
    parts = by_unit(out, "r0003")
    assert set(parts) == {"alpha", "beta"}
    assert parts["alpha"]["x_allocation_share"] == D("0.75")
    assert parts["alpha"]["BilledCost"] == D("75.0075")
    assert parts["beta"]["BilledCost"] == D("25.0025")
    assert parts["alpha"]["x_billed_cost_base"] + parts["beta"]["x_billed_cost_base"] == D("100.01")
    assert parts["alpha"]["x_billed_cost_base"] == D("75.01")  # 75.0075 -> largest remainder
    assert parts["alpha"]["x_allocation_method"] == "proportional"
    assert parts["alpha"]["x_allocation_driver"] == "compute_cost"
    details = json.loads(parts["beta"]["AllocatedMethodDetails"])
    assert details["rule"] == "nat" and details["driver"] == "compute_cost"
    assert set(details["weights"]) == {"alpha", "beta"}


def test_fixed_percentages() -> None:
    out = allocate_costs(frame([{"SubAccountId": "998", "cost": "10.00"}]), RULES)
    parts = by_unit(out, "r0000")
    assert parts["alpha"]["EffectiveCost"] == D("6") and parts["beta"]["EffectiveCost"] == D("4")
    assert parts["alpha"]["x_allocation_driver"] == "fixed"


def test_zero_driver_falls_back_to_even_with_deterministic_ties() -> None:
    rows = [
        {"SubAccountId": "111", "ServiceCategory": "Storage", "cost": "5.00"},
        {"SubAccountId": "999", "ResourceId": "natgateway-2", "cost": "1.00"},
    ]
    out = allocate_costs(frame(rows), RULES)
    parts = by_unit(out, "r0001")
    assert list(parts) == ["alpha", "beta", "gamma"]
    assert {p["x_allocation_driver"] for p in parts.values()} == {"even(fallback:compute_cost)"}
    assert [p["x_billed_cost_base"] for p in parts.values()] == [D("0.34"), D("0.33"), D("0.33")]
    thirds = [p["BilledCost"] for p in parts.values()]
    assert thirds == [D("0.3333333334")] + [D("0.3333333333")] * 2
    assert sum(p["x_allocation_share"] for p in parts.values()) == D(1)


def test_ambiguous_rules_at_allocation_time_name_both() -> None:
    rules = load_rules(
        """
version: "a"
business_units: [alpha, beta]
shared:
  - {id: by-nat, priority: 5, match: {resource_id_contains: nat}, driver: even}
  - {id: by-gateway, priority: 5, match: {resource_id_contains: gateway}, driver: even}
"""
    )
    allocate_costs(frame([{"ResourceId": "nat-1"}]), rules)  # only one matches: fine
    with pytest.raises(AmbiguousRuleError, match="by-nat") as info:
        allocate_costs(frame([{"ResourceId": "natgateway-1"}]), rules)
    assert "by-gateway" in str(info.value)


def random_estate(seed: int, n: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        kind = rng.choice(["tag", "111", "222", "999", "998", "997", "555"])
        jpy = rng.random() < 0.3
        cost = D(rng.randint(-(10**12), 10**13)).scaleb(-10)
        base = cost.quantize(D(1) if jpy else D("0.01"))
        row = {
            "SubAccountId": "222" if kind == "tag" else kind,
            "ResourceId": "natgateway" if kind == "999" else None,
            "x_tags": '{"project": "cc-gamma"}' if kind == "tag" else "{}",
            "ChargeCategory": rng.choice(["Usage", "Tax", "Credit"]),
            "ServiceCategory": rng.choice(["Compute", "Storage"]),
            "x_charge_date": DAY + dt.timedelta(days=rng.randint(0, 2)),
            "BillingCurrency": rng.choice(["USD", "EUR"]),
            "x_base_currency": "JPY" if jpy else "USD",
            "cost": cost,
            "base": base,
        }
        rows.append(row)
    return frame(rows)


def test_exact_conservation_on_random_data_matches_reference() -> None:
    normalized = random_estate(7, 400)
    out = allocate_costs(normalized, RULES)
    assert conservation_violations(normalized, out).is_empty()
    sources = {r["x_source_row_key"]: r for r in normalized.to_dicts()}
    for key, parts in out.group_by("x_source_row_key"):
        parts = parts.sort("x_business_unit")
        source = sources[key[0]]
        shares = parts["x_allocation_share"].to_list()
        scale = 0 if source["x_base_currency"] == "JPY" else 2
        for column, col_scale in [("BilledCost", 10), ("x_effective_cost_base", scale)]:
            expected = split_largest_remainder(source[column], shares, col_scale)
            assert parts[column].to_list() == expected, (key, column)
    assert set(out["x_allocation_method"]) == {"tag", "hierarchy", "proportional", "unallocated"}


def test_conservation_violations_reports_a_tampered_row() -> None:
    normalized = random_estate(3, 50)
    out = allocate_costs(normalized, RULES)
    tampered = out.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.col("BilledCost") + pl.lit(D("0.0000000001")))
        .otherwise(pl.col("BilledCost"))
        .cast(ALLOCATED_COLUMNS["BilledCost"])
        .alias("BilledCost")
    )
    violations = conservation_violations(normalized, tampered)
    assert violations.height == 1
    assert violations["column"][0] == "BilledCost"
    assert violations["difference"][0] == D("0.0000000001")


def test_same_input_gives_identical_output_in_any_row_order() -> None:
    normalized = random_estate(11, 200)
    first = allocate_costs(normalized, RULES)
    second = allocate_costs(normalized.sample(fraction=1.0, shuffle=True, seed=1), RULES)
    assert list(first.schema.items()) == list(ALLOCATED_COLUMNS.items())
    assert_frame_equal(first, second)
    assert_frame_equal(first, first.sort("x_source_row_key", "x_business_unit"))
    assert first["x_allocation_row_key"].is_unique().all()


def test_allocation_coverage_shares_by_method() -> None:
    rows = [{"SubAccountId": "111", "cost": "3.00"}, {"SubAccountId": "555", "cost": "1.00"}]
    coverage = allocation_coverage(allocate_costs(frame(rows), RULES))
    shares = dict(zip(coverage["x_allocation_method"], coverage["share"], strict=True))
    assert shares == {"hierarchy": D("0.75"), "unallocated": D("0.25")}


def test_input_errors_are_clear() -> None:
    rows = frame([{"SubAccountId": "111"}, {"SubAccountId": "111"}])
    duplicated = rows.with_columns(pl.lit("same").alias("x_source_row_key"))
    with pytest.raises(ValueError, match="unique"):
        allocate_costs(duplicated, RULES)
    with pytest.raises(ValueError, match="minor unit"):
        allocate_costs(frame([{"SubAccountId": "998", "cost": "1.001"}]), RULES)


def test_shipped_rules_on_sample_estate_rows() -> None:
    rules = load_rules_file(SHIPPED_RULES_PATH)
    rows = [
        {"SubAccountId": "210987654321", "cost": "40.00"},
        {"SubAccountId": "210987654322", "cost": "10.00", "x_tags": '{"cost_center": "Payments"}'},
        {
            "SubAccountId": "210987654324",
            "ResourceId": "arn:aws:ec2:natgateway/nat-0a",
            "cost": "9.99",
        },
        {"SubAccountId": "210987654325", "cost": "2.00"},
        {
            "SubAccountId": "210987654321",
            "ChargeCategory": "Tax",
            "cost": "1.00",
            "ServiceName": "Tax",
        },
        {"x_provider": "gcp", "SubAccountId": "shared-gke-prod", "cost": "6.00"},
        {"SubAccountId": "210987654322", "ConsumedQuantity": D(5), "ConsumedUnit": "GB"},
        {"SubAccountId": "0", "ChargeCategory": "Tax", "cost": "3.00", "ServiceName": "Tax"},
    ]
    normalized = frame(rows)
    out = allocate_costs(normalized, rules)
    assert conservation_violations(normalized, out).is_empty()
    assert by_unit(out, "r0003")["unallocated"]["x_allocation_method"] == "unallocated"
    nat = by_unit(out, "r0002")  # only search moved bytes that day
    assert list(nat) == ["search"] and nat["search"]["x_allocation_driver"] == "network_bytes"
    assert nat["search"]["x_allocation_rule_id"] == "aws-nat-gateways"
    assert by_unit(out, "r0004")["payments"]["x_allocation_method"] == "hierarchy"
    tax = by_unit(out, "r0007")  # compute cost: payments 40 + 10 (tag), search 1
    assert tax["payments"]["x_effective_cost_base"] == D("2.94")
    assert tax["search"]["x_effective_cost_base"] == D("0.06")
    gke = by_unit(out, "r0005")
    assert set(gke) == {"payments", "search", "ml-research", "data-platform"}
    assert gke["payments"]["x_allocation_driver"] == "even(fallback:k8s_usage)"


def test_catch_all_shared_rule_takes_what_is_left() -> None:
    rules = load_rules(
        """
version: "c"
business_units: [alpha, beta]
hierarchy:
  - {id: acct-alpha, priority: 1, match: {sub_account_id: "111"}, business_unit: alpha}
shared:
  - {id: leftovers, priority: 0, match: {}, driver: compute_cost}
"""
    )
    rows = [{"SubAccountId": "111", "cost": "2.00"}, {"SubAccountId": "555", "cost": "5.00"}]
    out = allocate_costs(frame(rows), rules)
    assert out["x_allocation_method"].to_list() == ["hierarchy", "proportional"]
    assert by_unit(out, "r0001")["alpha"]["BilledCost"] == D(5)  # beta has no compute cost
