"""Versioned allocation rules: who pays for which cost, loaded from YAML and validated.

A rules file has a `version`, the known `business_units`, the ordered `tag_keys` with their
`tag_values` (value -> business unit, case-insensitive), `hierarchy` rules (account, resource
group, namespace... -> one unit) and `shared` rules (a pool split over units by a driver).
Every problem raises RulesError naming the rule and what is wrong.
"""

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from finops_assets.domain.fx_policy import parse_fx_policy
from finops_assets.domain.rule_entries import (
    check_overlaps,
    checked_tag_keys,
    parse_hierarchy_rule,
    parse_shared_rule,
    parse_tag_values,
    string_list,
)
from finops_assets.domain.rules_model import (
    UNALLOCATED,
    WINDOW_KEYS,
    AllocationRules,
    AmbiguousRuleError,
    RulesError,
    SharedRule,
)
from finops_assets.domain.rules_schema import RulesShapeError, validate_rules_document
from finops_assets.domain.strict_yaml import StrictYamlError, load_strict_yaml

__all__ = [  # the model's most imported names stay importable from here
    "SHIPPED_RULES_PATH",
    "UNALLOCATED",
    "AllocationRules",
    "AmbiguousRuleError",
    "RulesError",
    "SharedRule",
    "load_rules",
    "load_rules_file",
    "parse_rules_document",
    "rules_document_json",
    "rules_from_document",
]


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
    units = tuple(u for u in string_list(doc, "business_units") if u != UNALLOCATED)
    if not units:
        raise RulesError("rule 'business_units': at least one business unit is required")
    tag_keys = checked_tag_keys(string_list(doc, "tag_keys"))
    tag_values = parse_tag_values(doc.get("tag_values") or {}, tag_keys, units)
    hierarchy = tuple(
        parse_hierarchy_rule(r, i, units) for i, r in enumerate(doc.get("hierarchy") or [])
    )
    shared = tuple(parse_shared_rule(r, i, units) for i, r in enumerate(doc.get("shared") or []))
    check_overlaps(hierarchy)
    check_overlaps(shared)
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
