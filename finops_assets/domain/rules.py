"""Versioned allocation rules: who pays for which cost, loaded from YAML and validated.

A rules file has a `version`, the known `business_units`, the ordered `tag_keys` with their
`tag_values` (value -> business unit, case-insensitive), `hierarchy` rules (account, resource
group, namespace... -> one unit) and `shared` rules (a pool split over units by a driver).
Every problem raises RulesError naming the rule and what is wrong.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from finops_assets.domain.fx_policy import DAILY_POLICY, FxPolicy, parse_fx_policy
from finops_assets.domain.k8s_split import AWS_SPLIT, K8sSplit, parse_k8s_split
from finops_assets.domain.reference import load_tag_aliases
from finops_assets.domain.rules_schema import RulesShapeError, validate_rules_document
from finops_assets.domain.split_by import SplitBy, SplitByError, parse_split_by
from finops_assets.domain.strict_yaml import StrictYamlError, load_strict_yaml
from finops_assets.domain.tags import normalize_tag_key

UNALLOCATED = "unallocated"
# The keys of a version's effective window: when it applies, not what it allocates.
WINDOW_KEYS = ("effective_from", "effective_to", "restate_from", "reason")
DRIVERS = ("compute_cost", "network_bytes", "request_share", "fixed", "even", "k8s_usage")
# Match keys that compare a value exactly (case-insensitive) and those that look for a substring.
EXACT_MATCH_KEYS = (
    "provider",
    "sub_account_id",
    "resource_group",
    "vpc",
    "k8s_namespace",
    "charge_category",
    "service_category",
)
CONTAINS_MATCH_KEYS = ("resource_id_contains", "service_name_contains")
HIERARCHY_MATCH_KEYS = (
    "provider",
    "sub_account_id",
    "resource_group",
    "vpc",
    "k8s_namespace",
    "resource_id_contains",
)
SHARED_MATCH_KEYS = (*HIERARCHY_MATCH_KEYS, "charge_category", "service_category")
SHARED_MATCH_KEYS_EXTRA = ("service_name_contains",)


class RulesError(ValueError):
    """The rules file is invalid; the message names the rule id and the problem."""


class AmbiguousRuleError(RulesError):
    """Two rules of equal priority match the same cost; the message names both rule ids."""


Match = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class HierarchyRule:
    """Costs matching `match` belong to one business unit."""

    id: str
    priority: int
    match: Match
    business_unit: str


@dataclass(frozen=True)
class SharedRule:
    """Costs matching `match` form a pool split over `targets` by `driver`."""

    id: str
    priority: int
    match: Match
    driver: str
    targets: tuple[str, ...]
    percentages: dict[str, Decimal]
    k8s: K8sSplit = AWS_SPLIT  # driver k8s_usage: resource weights and shared namespaces
    split_by: SplitBy | None = None  # instead of a driver: another table's usage (split_by.py)


@dataclass(frozen=True)
class AllocationRules:
    """A validated, versioned rule set; `data_version` identifies its exact content."""

    version: str
    content_hash: str
    business_units: tuple[str, ...]
    tag_keys: tuple[str, ...]
    tag_values: dict[str, dict[str, str]]  # tag key -> lower-case value -> business unit
    hierarchy: tuple[HierarchyRule, ...]
    shared: tuple[SharedRule, ...]
    document_json: str = field(default="", compare=False, repr=False)  # what was hashed
    fx: FxPolicy = DAILY_POLICY  # `fx:` of the file: daily or month_locked (fx_policy.py)

    @property
    def data_version(self) -> str:
        """The version plus the content hash prefix: changes whenever the rules change."""
        return f"{self.version}-{self.content_hash[:12]}"

    def namespace_units(self) -> dict[str, str]:
        """Kubernetes namespace -> business unit, from the hierarchy rules that name namespaces."""
        result: dict[str, str] = {}
        for rule in sorted(self.hierarchy, key=lambda r: -r.priority):
            for namespace in rule.match.get("k8s_namespace", ()):
                result.setdefault(namespace, rule.business_unit)
        return result


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


def _parse_hierarchy(raw: Any, index: int, units: tuple[str, ...]) -> HierarchyRule:
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


def _parse_shared(raw: Any, index: int, units: tuple[str, ...]) -> SharedRule:
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


def _parse_tag_values(raw: Any, tag_keys: tuple[str, ...], units: tuple[str, ...]):
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


def _check_overlaps(rules: Sequence[HierarchyRule | SharedRule]) -> None:
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


def _string_list(doc: dict, key: str) -> tuple[str, ...]:
    raw = doc.get(key) or []
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise RulesError(f"rule {key!r}: must be a list of non-empty strings")
    if len(set(raw)) != len(raw):
        raise RulesError(f"rule {key!r}: duplicate entries")
    return tuple(raw)


def _checked_tag_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Tag keys must be canonical (as normalization writes them), else they never match."""
    aliases = load_tag_aliases()
    for key in keys:
        canonical = normalize_tag_key(key, aliases)
        if canonical != key:
            raise RulesError(
                f"rule 'tag_keys': unknown tag key {key!r}: normalized tags spell it {canonical!r}"
            )
    return keys


def _canonical(value: Any) -> Any:
    """A decimal as the float it equals when that is exact (the hash stays what it was), else text."""
    if isinstance(value, Decimal) and Decimal(repr(float(value))) == value:
        return float(value)
    return str(value)


def parse_rules_document(text: str) -> dict:
    """The rules file as a mapping, read strictly (no duplicate keys, exact numbers, no bombs)."""
    try:
        doc = load_strict_yaml(text, "rules file")
    except StrictYamlError as exc:
        raise RulesError(str(exc)) from None
    if not isinstance(doc, dict):
        raise RulesError("rules file must be a mapping with a 'version'")
    versions = doc.get("versions")
    for version in [doc, *(versions if isinstance(versions, list) else [])]:
        for key in WINDOW_KEYS:  # an unquoted YAML date is a date; the schema wants its text
            if isinstance(version, dict) and isinstance(version.get(key), dt.date):
                version[key] = version[key].isoformat()
    return doc


def load_rules(text: str) -> AllocationRules:
    """Parse and validate a YAML rules document (one version) into a versioned AllocationRules.

    Read strictly: a duplicate or unknown key, a float that is not exact, an alias bomb or a
    shape the JSON Schema refuses raises RulesError naming the key. A file holding a history
    of versions is read with domain.rule_history.load_rule_history.
    """
    doc = parse_rules_document(text)
    if "versions" in doc:
        raise RulesError("rules file holds a history of 'versions'; read it with load_rule_history")
    try:
        validate_rules_document(doc)
    except RulesShapeError as exc:
        raise RulesError(str(exc)) from None
    return rules_from_document(doc)


def rules_document_json(doc: dict) -> str:
    """The allocation part of a rule version (no effective window) as canonical JSON.

    It is what the version's content hash is taken over, and load_rules reads it back.
    """
    rules_only = {k: v for k, v in doc.items() if k not in WINDOW_KEYS}
    return json.dumps(rules_only, sort_keys=True, separators=(",", ":"), default=_canonical)


def rules_from_document(doc: dict) -> AllocationRules:
    """An AllocationRules from one schema-valid version document.

    The effective window (effective_from, effective_to, restate_from, reason) is not part of
    the content hash: re-dating a version does not change what it allocates.
    """
    version = doc.get("version")
    if not isinstance(version, str) or not version:
        raise RulesError("rule 'version': required, must be a string (quote it in YAML)")
    units = tuple(u for u in _string_list(doc, "business_units") if u != UNALLOCATED)
    if not units:
        raise RulesError("rule 'business_units': at least one business unit is required")
    tag_keys = _checked_tag_keys(_string_list(doc, "tag_keys"))
    tag_values = _parse_tag_values(doc.get("tag_values") or {}, tag_keys, units)
    hierarchy = tuple(
        _parse_hierarchy(r, i, units) for i, r in enumerate(doc.get("hierarchy") or [])
    )
    shared = tuple(_parse_shared(r, i, units) for i, r in enumerate(doc.get("shared") or []))
    _check_overlaps(hierarchy)
    _check_overlaps(shared)
    try:
        fx_policy = parse_fx_policy(doc.get("fx"))
    except ValueError as exc:
        raise RulesError(f"rule 'fx': {exc}") from None
    document = rules_document_json(doc)
    return AllocationRules(
        version=version,
        content_hash=hashlib.sha256(document.encode()).hexdigest(),
        business_units=units,
        tag_keys=tag_keys,
        tag_values=tag_values,
        hierarchy=tuple(sorted(hierarchy, key=lambda r: (-r.priority, r.id))),
        shared=tuple(sorted(shared, key=lambda r: (-r.priority, r.id))),
        document_json=document,
        fx=fx_policy,
    )


def load_rules_file(path: Path) -> AllocationRules:
    """Load the rules YAML at `path` (e.g. the shipped config/allocation_rules.yaml)."""
    return load_rules(path.read_text(encoding="utf-8"))


SHIPPED_RULES_PATH = Path(__file__).resolve().parents[1] / "config" / "allocation_rules.yaml"
