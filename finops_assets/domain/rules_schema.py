"""The allocation rules file's shape: known keys (with a suggestion for a typo) and its JSON Schema.

The schema ships in the package (config/allocation_rules.schema.json) so an editor completes and
checks the YAML (see the `yaml-language-server` line at the top of the shipped rules); the loader
validates every file against the same schema.
"""

import difflib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "config" / "allocation_rules.schema.json"


class RulesShapeError(ValueError):
    """A key the rules file does not know, or a value of the wrong shape."""


@cache
def rules_schema() -> dict[str, Any]:
    """The JSON Schema of the rules file."""
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _known(definition: dict[str, Any]) -> list[str]:
    return sorted(definition.get("properties", {}))


def _refuse_unknown(keys: Iterable[Any], known: list[str], where: str) -> None:
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {known}"
            raise RulesShapeError(f"{where}: unknown key {key!r}{hint}")


def check_known_keys(document: dict[str, Any]) -> None:
    """Refuse a key the schema does not define, naming it and the nearest valid one."""
    schema = rules_schema()
    definitions = schema["$defs"]
    _refuse_unknown(document, _known(schema), "rules file")
    for section, kind in (("hierarchy", "hierarchy"), ("shared", "shared")):
        rules = document.get(section)
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            rule_id = rule.get("id")
            where = f"rule {rule_id!r}" if rule_id else f"{section} rule #{index + 1}"
            _refuse_unknown(rule, _known(definitions[f"{kind}_rule"]), where)
            if isinstance(rule.get("match"), dict):
                match_keys = _known(definitions[f"{kind}_match"])
                _refuse_unknown(rule["match"], match_keys, f"{where}: match")


def _where(document: Any, parts: list[Any]) -> str:
    """`rule 'id': key.path` inside a rule, else the path from the top of the file."""
    if len(parts) >= 2 and parts[0] == "versions" and isinstance(parts[1], int):
        version = document["versions"][parts[1]]
        name = version.get("version") if isinstance(version, dict) else None
        where = _where(version, parts[2:]) if isinstance(version, dict) else "(the version)"
        return f"versions[{parts[1]}] ({name!r}): {where}"
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    text = text.lstrip(".") or "(top level)"
    if len(parts) >= 2 and parts[0] in ("hierarchy", "shared") and isinstance(parts[1], int):
        rule = document[parts[0]][parts[1]]
        if isinstance(rule, dict) and isinstance(rule.get("id"), str):
            inner = ".".join(str(p) for p in parts[2:]) or "(the rule)"
            return f"rule {rule['id']!r}: {inner}"
    return f"rules file at {text}"


def validate_rules_document(document: Any) -> None:
    """Check `document` against the shipped JSON Schema; the error names the path and the rule."""
    if isinstance(document, dict):
        check_known_keys(document)
        versions = document.get("versions")
        for index, version in enumerate(versions if isinstance(versions, list) else []):
            if isinstance(version, dict):
                try:
                    check_known_keys(version)
                except RulesShapeError as exc:
                    raise RulesShapeError(f"versions[{index}]: {exc}") from None
    validator = Draft202012Validator(rules_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = _where(document, list(first.absolute_path))
        raise RulesShapeError(f"{where}: {first.message}")
