"""Rules: loading, versioning and the errors that name the offending rule."""

import pytest

from finops_assets.domain.rules import (
    SHIPPED_RULES_PATH,
    AmbiguousRuleError,
    RulesError,
    load_rules,
    load_rules_file,
)
from finops_assets.sample import estate

BASE = """
version: "1"
business_units: [alpha, beta]
tag_keys: [cost_center, project]
tag_values: {Alpha: alpha, project: {b-team: beta}}
hierarchy:
  - {id: h1, priority: 10, match: {sub_account_id: ["111", "112"]}, business_unit: alpha}
shared:
  - {id: s1, priority: 10, match: {sub_account_id: "999"}, driver: fixed,
     percentages: {alpha: 33.3, beta: 66.7}}
"""


def test_valid_rules_load_with_version_and_hash() -> None:
    rules = load_rules(BASE)
    assert rules.version == "1"
    assert len(rules.content_hash) == 64
    assert rules.data_version == f"1-{rules.content_hash[:12]}"
    assert rules.tag_values == {
        "cost_center": {"alpha": "alpha"},
        "project": {"alpha": "alpha", "b-team": "beta"},
    }
    assert rules.hierarchy[0].match == {"sub_account_id": ("111", "112")}
    assert sum(rules.shared[0].percentages.values()) == 100
    assert rules.shared[0].targets == ("alpha", "beta")


def test_hash_follows_content_not_formatting() -> None:
    reformatted = BASE.replace("{Alpha: alpha, ", "{ Alpha: alpha,  ").replace("# x", "")
    assert load_rules(reformatted).content_hash == load_rules(BASE).content_hash
    changed = load_rules(BASE.replace("beta: 66.7", "beta: 66.70001").replace("33.3", "33.29999"))
    assert changed.content_hash != load_rules(BASE).content_hash


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "business_unit: alpha}",
            "business_unit: gamma}",
            "rule 'h1': unknown business unit 'gamma'",
        ),
        ("project: {b-team", "owner: {b-team", "unknown tag key 'owner'"),
        (
            "tag_keys: [cost_center, project]",
            "tag_keys: [CostCenter, project]",
            "unknown tag key 'CostCenter': normalized tags spell it 'cost_center'",
        ),
        ("beta: 66.7", "beta: 66.6", "rule 's1': fixed percentages sum to 99.9, not 100"),
        ("driver: fixed", "driver: vibes", "rule 's1': driver: 'vibes' is not one of"),
        ('version: "1"', "", "version"),
        (
            'match: {sub_account_id: "999"}',
            'match: {account: "9"}',
            "rule 's1': match: unknown key 'account'; did you mean 'sub_account_id'",
        ),
        (
            "priority: 10, match: {sub_account_id: [",
            "priority: x, match: {sub_account_id: [",
            "'h1'",
        ),
    ],
)
def test_invalid_rules_name_the_rule_and_problem(old: str, new: str, message: str) -> None:
    assert old in BASE
    with pytest.raises(RulesError, match=message.replace("(", r"\(")):
        load_rules(BASE.replace(old, new))


def test_equal_priority_overlap_names_both_rules() -> None:
    text = BASE + "  - {id: s2, priority: 10, match: {provider: aws}, driver: even}\n"
    with pytest.raises(AmbiguousRuleError, match="'s1' and 's2'"):
        load_rules(text)
    disjoint = BASE + "  - {id: s2, priority: 10, match: {sub_account_id: '998'}, driver: even}\n"
    assert [r.id for r in load_rules(disjoint).shared] == ["s1", "s2"]
    lower = BASE + "  - {id: s2, priority: 5, match: {provider: aws}, driver: even}\n"
    assert [r.id for r in load_rules(lower).shared] == ["s1", "s2"]


def test_not_yaml_and_not_a_mapping() -> None:
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules("version: [unclosed")
    with pytest.raises(RulesError, match="mapping"):
        load_rules("- a list")


def test_shipped_rules_cover_the_sample_estate() -> None:
    rules = load_rules_file(SHIPPED_RULES_PATH)
    assert rules.version == "2026.11.1"
    assert set(rules.business_units) == set(estate.BUSINESS_UNITS)
    owned = {a.account_id.lower(): a.business_unit for a in estate.ACCOUNTS if a.business_unit}
    mapped = {
        account: rule.business_unit
        for rule in rules.hierarchy
        for account in rule.match.get("sub_account_id", ())
    }
    assert mapped == owned
    expected_ns = {ns: unit for ns, unit in estate.K8S_NAMESPACES.items() if unit}
    assert rules.namespace_units() == expected_ns
    assert {r.driver for r in rules.shared} >= {"k8s_usage", "network_bytes", "compute_cost"}
