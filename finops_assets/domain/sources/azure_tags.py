"""Azure tags as sent (a list of `"k":"v"` strings, an object, or object text) -> canonical JSON."""

import json

import polars as pl


def _tags_object(text: str | None) -> str | None:
    """Azure tags (`["\\"k\\":\\"v\\"", ...]`, an object, or object text) -> canonical JSON."""
    if text is None or text.strip() in ("", "[]", "{}"):
        return None
    value = json.loads(text)
    if isinstance(value, list):
        value = json.loads("{" + ",".join(str(item) for item in value) + "}")
    if not isinstance(value, dict):
        raise ValueError("tags are not an object")
    return json.dumps(
        {str(k): str(v) for k, v in value.items()}, sort_keys=True, separators=(",", ":")
    )


def canonical_tags(tags: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Per distinct value: canonical tags JSON and whether it could be read."""
    mapping: dict[str, str | None] = {}
    bad: list[str] = []
    for value in tags.drop_nulls().unique().to_list():
        try:
            mapping[value] = _tags_object(value)
        except (ValueError, TypeError):
            bad.append(value)
    canon = tags.replace_strict(mapping, default=None, return_dtype=pl.Utf8)
    return canon, ~tags.is_in(bad)
