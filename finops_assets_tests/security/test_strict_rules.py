"""Attacks on the rule and budget files: duplicate keys, typos, inexact numbers, alias bombs."""

import json
from decimal import Decimal

import pytest
import yaml
from jsonschema import Draft202012Validator

from finops_assets.domain.budgets import BudgetConfigError, load_budgets
from finops_assets.domain.rules import SHIPPED_RULES_PATH, RulesError, load_rules
from finops_assets.domain.rules_schema import SCHEMA_PATH, rules_schema
from finops_assets.domain.strict_yaml import MAX_YAML_BYTES, StrictYamlError, load_strict_yaml

SHIPPED = SHIPPED_RULES_PATH.read_text(encoding="utf-8")


def test_the_shipped_rules_pass_and_keep_their_hierarchy() -> None:
    rules = load_rules(SHIPPED)
    assert len(rules.hierarchy) == 12 and rules.tag_values["cost_center"]["payments"] == "payments"


def test_a_second_value_under_tag_values_is_refused_not_moved() -> None:
    text = SHIPPED.replace("  payments: payments\n", "  payments: payments\n  payments: search\n")
    with pytest.raises(RulesError, match=r"line \d+: duplicate key 'payments' \(first on line"):
        load_rules(text)


def test_a_second_top_level_hierarchy_is_refused() -> None:
    text = SHIPPED + "\nhierarchy:\n  - {id: only, match: {provider: aws}, business_unit: search}\n"
    with pytest.raises(RulesError, match="duplicate key 'hierarchy'"):
        load_rules(text)


def test_a_misspelled_key_is_named_with_the_nearest_valid_one() -> None:
    with pytest.raises(RulesError, match="unknown key 'hierachy'; did you mean 'hierarchy'"):
        load_rules(SHIPPED.replace("\nhierarchy:", "\nhierachy:"))
    with pytest.raises(RulesError, match="rule 'oci-search': unknown key 'busines_unit'"):
        load_rules(
            SHIPPED.replace(
                "business_unit: search\n  # Namespaces", "busines_unit: search\n  # Namespaces"
            )
        )


def test_percentages_are_exact_decimals_so_almost_100_fails() -> None:
    fixed = "{marketing-web: 50, payments: 30, search: 20}"
    sneaky = "{marketing-web: 50, payments: 30, search: 19.99999999999999999999}"
    assert 50 + 30 + float("19.99999999999999999999") == 100  # what a float reader saw
    with pytest.raises(RulesError, match="sum to 99.99999999999999999999, not 100"):
        load_rules(SHIPPED.replace(fixed, sneaky))


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 8)
        levels.append(f"a{level}: &a{level} [{refs}]")
    bomb = "\n".join(levels) + "\n"  # 8**8 = 16,777,216 leaves once expanded
    with pytest.raises(RulesError, match="alias"):
        load_rules("version: '1'\nbusiness_units: [a]\n" + bomb)
    with pytest.raises(BudgetConfigError, match="alias"):
        load_budgets(bomb + "budgets: []\n", "USD")


def test_fewer_aliases_that_still_fan_out_are_refused_by_the_node_count() -> None:
    levels = ["a0: &a0 [" + ", ".join(["x"] * 60) + "]"]
    for level in range(1, 4):
        levels.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 15) + "]")
    with pytest.raises(StrictYamlError, match="nodes once aliases are expanded"):
        load_strict_yaml("\n".join(levels))  # 45 aliases, 60 * 15**3 = 202,500 leaves


@pytest.mark.slow
def test_merge_keys_recursive_anchors_size_and_depth_are_refused() -> None:
    with pytest.raises(StrictYamlError, match="merge keys"):
        load_strict_yaml("base: &b {x: 1}\nrule: {<<: *b, y: 2}\n")
    with pytest.raises(StrictYamlError, match="recursive anchor"):
        load_strict_yaml("a: &a [1, *a]\n")
    with pytest.raises(StrictYamlError, match="over the limit"):
        load_strict_yaml("x: " + "y" * MAX_YAML_BYTES)
    with pytest.raises(StrictYamlError, match="nested too deeply|not valid YAML"):
        load_strict_yaml("[" * 5000 + "]" * 5000)
    with pytest.raises(StrictYamlError, match="not a finite decimal"):
        load_strict_yaml("x: .inf\n")


def test_numbers_are_read_exactly() -> None:
    document = load_strict_yaml("a: 19.99999999999999999999\nb: 1_000.5\nc: 3\n")
    assert document == {"a": Decimal("19.99999999999999999999"), "b": Decimal("1000.5"), "c": 3}


def test_budgets_refuse_duplicate_keys_too() -> None:
    text = "budgets:\n  - id: b1\n    amount: '10'\n    amount: '100000'\n"
    with pytest.raises(BudgetConfigError, match="duplicate key 'amount'"):
        load_budgets(text, "USD")


def test_the_schema_ships_and_describes_the_shipped_file() -> None:
    assert SHIPPED.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_PATH.name}"
    Draft202012Validator.check_schema(rules_schema())
    assert json.loads(SCHEMA_PATH.read_text())["additionalProperties"] is False
    Draft202012Validator(rules_schema()).validate(yaml.safe_load(SHIPPED))


def test_the_loader_applies_the_schema() -> None:
    with pytest.raises(RulesError, match=r"rule 'tax': priority: 'high' is not of type 'integer'"):
        load_rules(SHIPPED.replace("priority: 310", "priority: high"))
    with pytest.raises(RulesError, match=r"rules file at business_units: \[\] should be non-empty"):
        load_rules(
            SHIPPED.replace(
                "business_units: [payments, search, data-platform, marketing-web, ml-research]",
                "business_units: []",
            )
        )
