"""Cross-provider drivers (issue 21 Deliver 4): a shared pool split by another table's usage.

Small hand-built frames: Kubernetes CPU core-hours, another provider's ConsumedQuantity in
normalized_costs, and a customer's driver file; each split is exact and conserves the pool.
"""

import json
from decimal import Decimal

import polars as pl
import pytest

from finops_assets.domain.allocate import allocate_costs
from finops_assets.domain.allocate_conservation import conservation_violations
from finops_assets.domain.driver_files import DRIVER_COLUMNS
from finops_assets.domain.k8s import K8S_USAGE_COLUMNS
from finops_assets.domain.rules import RulesError, load_rules
from finops_assets_tests.domain.test_allocate import DAY, frame

D = Decimal
RULES_TEXT = """
version: "x1"
business_units: [alpha, beta, gamma]
tag_keys: [cost_center]
tag_values: {alpha: alpha, beta: beta, cc-gamma: gamma}
hierarchy:
  - {id: ns-gamma, priority: 20, match: {k8s_namespace: gamma-ns}, business_unit: gamma}
  - {id: ns-beta, priority: 20, match: {k8s_namespace: beta-ns}, business_unit: beta}
shared:
  - id: observability
    priority: 10
    match: {sub_account_id: "999"}
    split_by: {driver: k8s_cpu}
  - id: support
    priority: 10
    match: {sub_account_id: "998"}
    split_by:
      normalized_quantity:
        match: {provider: gcp, service_name_contains: bigquery}
        consumed_unit: TiB
  - id: network
    priority: 10
    match: {sub_account_id: "997"}
    split_by: {file: seats, measure: licences}
"""
RULES = load_rules(RULES_TEXT)


def usage(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    """k8s_usage_raw rows: (namespace, cpu usage core-seconds, memory usage byte-seconds)."""
    data = [
        {
            "x_charge_date": DAY,
            "cluster": "c1",
            "namespace": ns,
            "pod": f"p{i}",
            "node": "n1",
            "cpu_usage_core_seconds": D(cpu),
            "cpu_request_core_seconds": D(0),
            "memory_usage_byte_seconds": D(mem),
            "memory_request_byte_seconds": D(0),
            "x_source_file": "c1_pod_usage.csv",
            "x_source_line": i + 2,
        }
        for i, (ns, cpu, mem) in enumerate(rows)
    ]
    return pl.DataFrame(data, schema=K8S_USAGE_COLUMNS)


def drivers(rows: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """allocation_drivers_raw rows: (driver name, key, measure, quantity)."""
    data = [
        {
            "x_charge_date": DAY,
            "x_driver": name,
            "key": key,
            "measure": measure,
            "quantity": D(quantity),
            "x_source_file": f"drivers/{name}/{DAY}.csv",
            "x_source_line": i + 2,
        }
        for i, (name, key, measure, quantity) in enumerate(rows)
    ]
    return pl.DataFrame(data, schema=DRIVER_COLUMNS)


def amounts(allocated: pl.DataFrame, key: str) -> dict[str, Decimal]:
    rows = allocated.filter(pl.col("x_source_row_key") == key)
    return dict(zip(rows["x_business_unit"], rows["x_billed_cost_base"], strict=True))


def test_k8s_cpu_core_hours_split_a_pool_of_another_provider() -> None:
    # gamma runs 3 core-hours, beta 1; beta uses far more memory, which k8s_cpu ignores.
    k8s = usage([("gamma-ns", "10800", "1"), ("beta-ns", "3600", "999999999999")])
    normalized = frame([{"SubAccountId": "999", "x_provider": "azure", "cost": "100.00"}])
    allocated = allocate_costs(normalized, RULES, k8s)
    assert amounts(allocated, "r0000") == {"gamma": D("75.00"), "beta": D("25.00")}
    row = allocated.row(0, named=True)
    assert row["x_allocation_driver"] == "k8s_cpu"
    assert json.loads(row["AllocatedMethodDetails"])["driver"] == "k8s_cpu"


def test_another_providers_consumed_quantity_splits_the_pool() -> None:
    gcp = {"x_provider": "gcp", "ServiceName": "BigQuery", "ConsumedUnit": "TiB"}
    normalized = frame(
        [
            {"SubAccountId": "998", "cost": "10.00"},  # the pool (an AWS support plan)
            {**gcp, "x_tags": '{"cost_center": "alpha"}', "ConsumedQuantity": D(2)},
            {**gcp, "x_tags": '{"cost_center": "beta"}', "ConsumedQuantity": D(1)},
            # another unit of measure, and another service: not part of the driver
            {
                **gcp,
                "x_tags": '{"cost_center": "gamma"}',
                "ConsumedUnit": "GiB",
                "ConsumedQuantity": D(500),
            },
            {
                "x_provider": "gcp",
                "ServiceName": "Compute Engine",
                "ConsumedUnit": "TiB",
                "x_tags": '{"cost_center": "gamma"}',
                "ConsumedQuantity": D(50),
            },
        ]
    )
    allocated = allocate_costs(normalized, RULES)
    assert amounts(allocated, "r0000") == {"alpha": D("6.67"), "beta": D("3.33")}
    assert allocated.filter(pl.col("x_source_row_key") == "r0000")[
        "x_allocation_driver"
    ].to_list() == ["normalized_quantity", "normalized_quantity"]


def test_driver_file_keys_are_units_or_tag_values() -> None:
    rows = drivers(
        [
            ("seats", "alpha", "licences", "1"),
            ("seats", "CC-Gamma", "licences", "2"),  # a tag value, case-insensitive
            ("seats", "beta", "desks", "40"),  # another measure of the same file
            ("other", "beta", "licences", "40"),  # another driver file
            ("seats", "nobody", "licences", "5"),  # names no unit: left out, and said so
        ]
    )
    normalized = frame([{"SubAccountId": "997", "cost": "1.00"}])
    allocated = allocate_costs(normalized, RULES, driver_rows=rows)
    assert amounts(allocated, "r0000") == {"alpha": D("0.33"), "gamma": D("0.67")}
    assert set(allocated["x_allocation_driver"]) == {"file:seats(unmapped keys: nobody)"}


def test_a_day_without_driver_quantity_keeps_the_pool_unallocated_with_its_reason() -> None:
    normalized = frame([{"SubAccountId": "997", "cost": "12.34"}])
    allocated = allocate_costs(normalized, RULES, driver_rows=drivers([]))
    row = allocated.row(0, named=True)
    assert allocated.height == 1
    assert (row["x_business_unit"], row["x_billed_cost_base"]) == ("unallocated", D("12.34"))
    assert row["x_allocation_method"] == "unallocated"
    assert row["x_allocation_rule_id"] == "network"
    assert row["x_allocation_driver"] == f"file:seats(no driver quantity on {DAY}: unallocated)"


def test_every_driver_kind_conserves_each_day_and_currency() -> None:
    k8s = usage([("gamma-ns", "7", "0"), ("beta-ns", "13", "0")])
    rows = drivers([("seats", "alpha", "licences", "3"), ("seats", "beta", "licences", "7")])
    gcp = {"x_provider": "gcp", "ServiceName": "BigQuery", "ConsumedUnit": "TiB"}
    costs = []
    for i in range(30):
        account = ("999", "998", "997")[i % 3]
        currency = ("USD", "JPY", "EUR")[i % 3]
        cost = D(i * 7919 % 100003).scaleb(-2)
        costs.append({"SubAccountId": account, "BillingCurrency": currency, "cost": str(cost)})
    costs.append({**gcp, "x_tags": '{"cost_center": "alpha"}', "ConsumedQuantity": D("0.7")})
    costs.append({**gcp, "x_tags": '{"cost_center": "cc-gamma"}', "ConsumedQuantity": D("0.3")})
    normalized = frame(costs)
    allocated = allocate_costs(normalized, RULES, k8s, driver_rows=rows)
    assert conservation_violations(normalized, allocated).is_empty()
    pooled = allocated.filter(pl.col("x_allocation_method") == "proportional")
    assert set(pooled["x_allocation_driver"]) == {"k8s_cpu", "normalized_quantity", "file:seats"}


def test_a_file_driver_with_several_measures_and_none_chosen_fails_naming_driver_and_day() -> None:
    rules = load_rules(
        RULES_TEXT.replace("split_by: {file: seats, measure: licences}", "split_by: {file: seats}")
    )
    rows = drivers([("seats", "alpha", "licences", "1"), ("seats", "beta", "desks", "2")])
    with pytest.raises(ValueError, match=rf"driver file 'seats'.*{DAY}.*measures.*desks"):
        allocate_costs(frame([{"SubAccountId": "997"}]), rules, driver_rows=rows)


@pytest.mark.parametrize(
    ("split_by", "message"),
    [
        ("{driver: k8s_cpu}\n    driver: even", "either driver or split_by"),
        ("{driver: k8s_disk}", "split_by"),
        ("{file: seats, driver: k8s_cpu}", "split_by"),
        ("{normalized_quantity: {match: {k8s_namespace: x}}}", "k8s_namespace"),
    ],
)
def test_split_by_is_validated_naming_the_rule(split_by: str, message: str) -> None:
    text = RULES_TEXT.replace("{driver: k8s_cpu}", split_by, 1)
    with pytest.raises(RulesError, match=message):
        load_rules(text)


def test_the_shipped_rules_do_not_opt_in_and_keep_their_version() -> None:
    """The demo's rules stay as they were: same data version, no split_by (figures unchanged)."""
    from finops_assets.domain.rules import SHIPPED_RULES_PATH, load_rules_file

    shipped = load_rules_file(SHIPPED_RULES_PATH)
    assert shipped.data_version == "2026.11.1-6092695a4ce5"
    assert all(rule.split_by is None for rule in shipped.shared)


def test_a_day_allocated_in_chunks_gives_the_same_rows_for_every_driver_kind() -> None:
    """Large days stream in chunks: the normalized_quantity measure adds up over them."""
    from finops_assets.domain.allocate import allocate_chunks

    k8s = usage([("gamma-ns", "7", "0"), ("beta-ns", "13", "0")])
    rows = drivers([("seats", "alpha", "licences", "3"), ("seats", "beta", "licences", "7")])
    gcp = {"x_provider": "gcp", "ServiceName": "BigQuery", "ConsumedUnit": "TiB"}
    costs = [
        {"SubAccountId": ("999", "998", "997")[i % 3], "cost": f"{i}.0{i % 10}"} for i in range(12)
    ]
    costs += [
        {**gcp, "x_tags": '{"cost_center": "alpha"}', "ConsumedQuantity": D("0.7")},
        {**gcp, "x_tags": '{"cost_center": "cc-gamma"}', "ConsumedQuantity": D("0.3")},
    ]
    normalized = frame(costs)
    whole = allocate_costs(normalized, RULES, k8s, driver_rows=rows)
    chunks = [normalized.slice(0, 13), normalized.slice(13)]  # the BigQuery rows fall apart
    streamed = pl.concat(list(allocate_chunks(chunks, RULES, k8s, driver_rows=rows)))
    key = ["x_source_row_key", "x_business_unit"]
    assert streamed.sort(key).equals(whole.sort(key))
    support = whole.filter(pl.col("x_allocation_rule_id") == "support")
    assert set(support["x_business_unit"]) == {"alpha", "gamma"}
