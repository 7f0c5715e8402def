"""Python-repr text as JSON text: what some GCP export tools write for `credits` and `labels`.

`[{'name': 'FreeTrial', 'amount': -5e-06, 'full_name': None}]` is a Python literal, not JSON
(single quotes, None, True). It is rewritten token by token: strings re-quoted as JSON, None/
True/False as null/true/false, and numbers kept exactly as written (never through a float).
"""

import ast
import io
import json
import tokenize

import polars as pl

_NAMES = {"None": "null", "True": "true", "False": "false"}
_SKIP = {tokenize.ENCODING, tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT}


def python_repr_as_json(text: str) -> str | None:
    """The JSON text of a Python literal of lists, dicts, strings, numbers and None; else None."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    parts = []
    for token in tokens:
        if token.type in _SKIP:
            continue
        if token.type == tokenize.STRING:
            value = _string(token.string)
            if value is None:
                return None
            parts.append(json.dumps(value, ensure_ascii=False))
        elif token.type == tokenize.NAME:
            if token.string not in _NAMES:
                return None
            parts.append(_NAMES[token.string])
        elif token.type in (tokenize.NUMBER, tokenize.OP):
            parts.append(token.string)
        else:
            return None
    converted = "".join(parts)
    try:
        json.loads(converted)
    except ValueError:
        return None
    return converted


def json_or_repr_series(values: pl.Series) -> pl.Series:
    """Each distinct value that is not JSON but is a Python literal, rewritten as JSON text."""
    mapping: dict[str, str] = {}
    for value in values.drop_nulls().unique().to_list():
        if not _is_json(value):
            converted = python_repr_as_json(value)
            if converted is not None:
                mapping[value] = converted
    if not mapping:
        return values
    return values.replace(mapping)


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _string(literal: str) -> str | None:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None
