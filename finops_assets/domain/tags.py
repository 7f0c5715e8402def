"""Tag keys normalized to one spelling (CostCenter, cost-center, user:CostCenter -> cost_center)."""

import json
from collections.abc import Mapping

import polars as pl

EMPTY_TAGS = "{}"
_AWS_PREFIXES = ("user:", "user_")


def normalize_tag_key(key: str, aliases: Mapping[str, str]) -> str:
    """One tag key in canonical form: AWS user prefix stripped, lowercase, '_' separated, aliased."""
    text = key.strip()
    for prefix in _AWS_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    normalized = text.strip().lower().replace("-", "_").replace(" ", "_")
    return aliases.get(normalized, normalized)


def _tag_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _tag_pairs(parsed: object) -> list[tuple[str, object]] | None:
    if isinstance(parsed, dict):
        return [(str(k), v) for k, v in parsed.items()]
    # GCP labels sometimes arrive as [{"key": ..., "value": ...}]
    if isinstance(parsed, list) and all(isinstance(i, dict) and "key" in i for i in parsed):
        return [(str(i["key"]), i.get("value")) for i in parsed]
    return None


def normalize_tags_text(text: str | None, aliases: Mapping[str, str]) -> str | None:
    """A JSON tag object -> canonical JSON text (keys normalized, values trimmed, keys sorted).

    Null or blank -> "{}". Text that is not a JSON object -> None (the caller quarantines it).
    When two original keys collide on one canonical key, the first in sorted original-key order
    with a non-empty value wins, so the result never depends on input key order.
    """
    if text is None or not text.strip():
        return EMPTY_TAGS
    try:
        pairs = _tag_pairs(json.loads(text))
    except json.JSONDecodeError:
        return None
    if pairs is None:
        return None
    tags: dict[str, str] = {}
    for key, value in sorted(pairs, key=lambda pair: pair[0]):
        canonical = normalize_tag_key(key, aliases)
        cleaned = _tag_value(value)
        if canonical and (canonical not in tags or (not tags[canonical] and cleaned)):
            tags[canonical] = cleaned
    return json.dumps(tags, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalize_tags_expr(tags_json: pl.Expr, aliases: Mapping[str, str]) -> pl.Expr:
    """Expression: Tags JSON text -> canonical x_tags JSON text (None where Tags is not JSON)."""
    alias_map = {normalize_tag_key(k, {}): v for k, v in aliases.items()}

    def normalize_series(tags: pl.Series) -> pl.Series:
        # Python runs once per DISTINCT tag string (typically a few thousand per day), never per
        # row: the mapping is joined back to every row by replace_strict, which is vectorized.
        distinct = tags.drop_nulls().unique().to_list()
        mapping = {text: normalize_tags_text(text, alias_map) for text in distinct}
        if mapping:
            normalized = tags.replace_strict(
                list(mapping), list(mapping.values()), default=None, return_dtype=pl.Utf8
            )
        else:
            normalized = pl.Series(tags.name, [None] * len(tags), dtype=pl.Utf8)
        empty = pl.repeat(EMPTY_TAGS, len(tags), dtype=pl.Utf8, eager=True)
        return normalized.zip_with(tags.is_not_null(), empty)

    return tags_json.cast(pl.Utf8).map_batches(normalize_series, return_dtype=pl.Utf8)
