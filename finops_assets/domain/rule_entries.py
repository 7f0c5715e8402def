"""One allocation rule at a time: a hierarchy or shared rule, tag values, overlap checks.

Every problem raises RulesError naming the rule and what is wrong.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from finops_assets.domain.k8s_split import parse_k8s_split
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.domain.rules_model import (
    CONTAINS_MATCH_KEYS,
    DRIVERS,
    HIERARCHY_MATCH_KEYS,
    SHARED_MATCH_KEYS,
    SHARED_MATCH_KEYS_EXTRA,
    AmbiguousRuleError,
    HierarchyRule,
    Match,
    RulesError,
    SharedRule,
)
from finops_assets.domain.split_by import SplitBy, SplitByError, parse_split_by
from finops_assets.domain.tags import normalize_tag_key


def _values(rule_id: str, key: str, raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or any(not isinstance(v, str | int) or isinstance(v, bool) for v in items):
        raise RulesError(f"rule {rule_id!r}: match.{key} must be a string or a list of strings")
    return tuple(str(v).lower() for v in items)


def _parse_match(rule_id: str, raw: Any, allowed: tuple[str, ...]) -> Match:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RulesError(f"rule {rule_id!r}: match must be a mapping")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise RulesError(f"rule {rule_id!r}: unknown match key(s) {unknown}; allowed {allowed}")
    return {key: _values(rule_id, key, value) for key, value in sorted(raw.items())}


def _unit(rule_id: str, unit: Any, units: tuple[str, ...]) -> str:
    if unit not in units:
        raise RulesError(f"rule {rule_id!r}: unknown business unit {unit!r}; known {units}")
    return str(unit)


def _common(raw: Any, kind: str, index: int) -> tuple[str, int]:
    if not isinstance(raw, dict):
        raise RulesError(f"{kind} rule #{index + 1}: must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise RulesError(f"{kind} rule #{index + 1}: missing string 'id'")
    priority = raw.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise RulesError(f"rule {rule_id!r}: priority must be an integer")
    return rule_id, priority


def parse_hierarchy_rule(raw: Any, index: int, units: tuple[str, ...]) -> HierarchyRule:
    """The hierarchy rule at `index`: a non-empty match and one known business unit."""
    rule_id, priority = _common(raw, "hierarchy", index)
    match = _parse_match(rule_id, raw.get("match"), HIERARCHY_MATCH_KEYS)
    if not match:
        raise RulesError(f"rule {rule_id!r}: a hierarchy rule needs a non-empty match")
    return HierarchyRule(rule_id, priority, match, _unit(rule_id, raw.get("business_unit"), units))


def _parse_percentages(rule_id: str, raw: Any, targets: tuple[str, ...]) -> dict[str, Decimal]:
    if not isinstance(raw, dict) or not raw:
        raise RulesError(f"rule {rule_id!r}: driver fixed needs percentages: {{unit: percent}}")
    result: dict[str, Decimal] = {}
    for unit, value in raw.items():
        if unit not in targets:
            raise RulesError(f"rule {rule_id!r}: unknown business unit {unit!r} in percentages")
        try:
            result[unit] = Decimal(str(value))
        except InvalidOperation as exc:
            raise RulesError(f"rule {rule_id!r}: percentage {value!r} is not a number") from exc
        if result[unit] < 0:
            raise RulesError(f"rule {rule_id!r}: percentage for {unit!r} is negative")
    total = sum(result.values(), Decimal(0))
    if total != Decimal(100):
        raise RulesError(f"rule {rule_id!r}: fixed percentages sum to {total}, not 100")
    return result


def parse_shared_rule(raw: Any, index: int, units: tuple[str, ...]) -> SharedRule:
    """The shared rule at `index`: a match, a driver or split_by, and known target units."""
    rule_id, priority = _common(raw, "shared", index)
    match = _parse_match(rule_id, raw.get("match"), SHARED_MATCH_KEYS + SHARED_MATCH_KEYS_EXTRA)
    split_by = _parse_split_by(rule_id, raw)
    driver = split_by.label if split_by else raw.get("driver")
    if driver not in DRIVERS and split_by is None:
        raise RulesError(f"rule {rule_id!r}: unknown driver {driver!r}; known {DRIVERS}")
    raw_targets = raw.get("targets") or list(units)
    if not isinstance(raw_targets, list):
        raise RulesError(f"rule {rule_id!r}: targets must be a list of business units")
    targets = tuple(sorted({_unit(rule_id, t, units) for t in raw_targets}))
    percentages: dict[str, Decimal] = {}
    if driver == "fixed":
        percentages = _parse_percentages(rule_id, raw.get("percentages"), targets)
    elif raw.get("percentages") is not None:
        raise RulesError(f"rule {rule_id!r}: percentages only apply to driver fixed")
    if raw.get("k8s") is not None and driver != "k8s_usage":
        raise RulesError(f"rule {rule_id!r}: k8s options only apply to driver k8s_usage")
    try:
        k8s = parse_k8s_split(raw.get("k8s"))
    except ValueError as exc:
        raise RulesError(f"rule {rule_id!r}: {exc}") from None
    if k8s.idle_unit is not None:  # idle kept as a line: its unit joins the pool's targets
        targets = tuple(sorted({*targets, _unit(f"{rule_id}: k8s.idle", k8s.idle_unit, units)}))
    return SharedRule(rule_id, priority, match, str(driver), targets, percentages, k8s, split_by)


def _parse_split_by(rule_id: str, raw: dict) -> SplitBy | None:
    """The rule's split_by, or None; a rule has either a driver or split_by, never both."""
    if ("driver" in raw) == ("split_by" in raw):
        raise RulesError(f"rule {rule_id!r}: a shared rule needs either driver or split_by")
    if "split_by" not in raw:
        return None
    try:
        return parse_split_by(raw["split_by"])
    except SplitByError as exc:
        raise RulesError(f"rule {rule_id!r}: {exc}") from None


def parse_tag_values(raw: Any, tag_keys: tuple[str, ...], units: tuple[str, ...]):
    """Flat {value: unit} applies to every key; {key: {value: unit}} to that key only."""
    if not isinstance(raw, dict):
        raise RulesError("rule 'tag_values': must be a mapping of value -> business unit")
    result: dict[str, dict[str, str]] = {key: {} for key in tag_keys}
    for value, target in raw.items():
        if isinstance(target, dict):
            if value not in tag_keys:
                raise RulesError(f"rule 'tag_values': unknown tag key {value!r}; known {tag_keys}")
            for sub_value, unit in target.items():
                unit = _unit(f"tag_values.{value}", unit, units)
                result[value][str(sub_value).lower()] = unit
        else:
            unit = _unit(f"tag_values.{value}", target, units)
            for key in tag_keys:
                result[key].setdefault(str(value).lower(), unit)
    return result


def matches_may_overlap(a: Match, b: Match) -> bool:
    """False when some match key is set in both rules with disjoint values.

    Substring keys count as disjoint when neither substring contains the other; a cost row
    that still contains both is caught at allocation time (AmbiguousRuleError).
    """
    for key in set(a) & set(b):
        if key in CONTAINS_MATCH_KEYS:
            if not any(x in y or y in x for x in a[key] for y in b[key]):
                return False
        elif not set(a[key]) & set(b[key]):
            return False
    return True


def check_overlaps(rules: Sequence[HierarchyRule | SharedRule]) -> None:
    """Raise on a duplicate rule id or two equal-priority rules whose matches may overlap."""
    for i, first in enumerate(rules):
        for second in rules[i + 1 :]:
            if first.id == second.id:
                raise RulesError(f"rule {first.id!r}: duplicate rule id")
            same = first.priority == second.priority
            if same and matches_may_overlap(first.match, second.match):
                raise AmbiguousRuleError(
                    f"rules {first.id!r} and {second.id!r} have equal priority "
                    f"{first.priority} and overlapping matches"
                )


def string_list(doc: dict, key: str) -> tuple[str, ...]:
    """`doc[key]` as a tuple of distinct non-empty strings (empty when absent)."""
    raw = doc.get(key) or []
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise RulesError(f"rule {key!r}: must be a list of non-empty strings")
    if len(set(raw)) != len(raw):
        raise RulesError(f"rule {key!r}: duplicate entries")
    return tuple(raw)


def checked_tag_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Tag keys must be canonical (as normalization writes them), else they never match."""
    aliases = load_tag_aliases()
    for key in keys:
        canonical = normalize_tag_key(key, aliases)
        if canonical != key:
            raise RulesError(
                f"rule 'tag_keys': unknown tag key {key!r}: normalized tags spell it {canonical!r}"
            )
    return keys
