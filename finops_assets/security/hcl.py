"""A small HCL writer for the generated Terraform: blocks, attributes and literal values.

Output follows `terraform fmt` layout (two-space indent, `=` aligned within a run of
single-line attributes), so regenerating gives the same bytes and a human diff stays small.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class Expr(str):
    """A Terraform expression written as is (`var.bucket`), not as a quoted string."""


@dataclass
class Block:
    """`type "label" ... { body }`; body items are (name, value) attributes or nested blocks."""

    type: str
    labels: Sequence[str] = ()
    body: list[tuple[str, Any] | Block] = field(default_factory=list)
    comment: str = ""


def _value(value: Any, indent: int) -> str:
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    pad = "  " * (indent + 1)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        if len(value) == 1 and not isinstance(value[0], dict | list):
            return f"[{_value(value[0], indent)}]"
        items = "".join(f"{pad}{_value(item, indent + 1)},\n" for item in value)
        return f"[\n{items}{'  ' * indent}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        keys = [k if k.isidentifier() else json.dumps(k) for k in value]
        width = max(len(k) for k in keys)
        lines = "".join(
            f"{pad}{key.ljust(width)} = {_value(item, indent + 1)}\n"
            for key, item in zip(keys, value.values(), strict=True)
        )
        return f"{{\n{lines}{'  ' * indent}}}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _block(block: Block, indent: int) -> list[str]:
    pad = "  " * indent
    header = " ".join([block.type, *(json.dumps(label) for label in block.labels)])
    lines = [f"{pad}# {line}" if line else f"{pad}#" for line in block.comment.splitlines()]
    lines.append(f"{pad}{header} {{")
    run: list[tuple[str, str]] = []

    def flush() -> None:
        # Like `terraform fmt`: `=` aligned over a run of attributes; the first line of a
        # multi-line value belongs to the run, and its last line ends the run.
        width = max((len(name) for name, _ in run), default=0)
        lines.extend(f"{pad}  {name.ljust(width)} = {text}" for name, text in run)
        run.clear()

    previous_was_block = False
    for item in block.body:
        if isinstance(item, Block):
            flush()
            if len(lines) > 1 and not lines[-1].endswith("{"):
                lines.append("")
            lines.extend(_block(item, indent + 1))
            previous_was_block = True
            continue
        if previous_was_block:
            lines.append("")
            previous_was_block = False
        name, value = item
        text = _value(value, indent + 1)
        run.append((name, text))
        if "\n" in text:
            flush()
    flush()
    lines.append(f"{pad}}}")
    return lines


def render_blocks(blocks: Sequence[Block], header: str = "") -> str:
    """HCL text for top-level blocks separated by blank lines, with an optional comment header."""
    parts = (
        ["\n".join(f"# {line}" if line else "#" for line in header.splitlines())] if header else []
    )
    parts.extend("\n".join(_block(block, 0)) for block in blocks)
    return "\n\n".join(parts) + "\n"
