"""A strict YAML reader for configuration that moves money (allocation rules, budgets).

Plain `yaml.safe_load` keeps the last of two equal keys, reads `19.99999999999999999999` as the
float 20.0, and expands an alias bomb into billions of nodes. This reader refuses a duplicate
key (naming it and its line), refuses merge keys and recursive anchors, reads every YAML float
as an exact `Decimal` from its text, and limits the text's size, the number of aliases and the
number of nodes after alias expansion. Tags are the safe ones only (a `!!python` tag fails).
"""

from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_YAML_BYTES = 1 << 20  # a rules or budgets file is a few kB
MAX_YAML_ALIASES = 64  # anchors are handy for repeated match blocks, not for fan-out
MAX_YAML_NODES = 200_000  # nodes once every alias is expanded


class StrictYamlError(ValueError):
    """The YAML text breaks a strictness rule; the message names the document, line and key."""


def _where(name: str, node: Node) -> str:
    return f"{name}, line {node.start_mark.line + 1}"


class _StrictLoader(yaml.SafeLoader):
    document_name = "<yaml>"
    aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                event = self.peek_event()
                raise StrictYamlError(
                    f"{self.document_name}, line {event.start_mark.line + 1}: more than "
                    f"{MAX_YAML_ALIASES} aliases (a YAML alias bomb?)"
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise StrictYamlError(
                    f"{_where(self.document_name, key_node)}: merge keys (<<) are not allowed; "
                    "write the keys out"
                )
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise StrictYamlError(
                    f"{self.document_name}, line {line}: duplicate key {key!r} "
                    f"(first on line {seen[key]}); the second would silently replace the first"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_exact_number(self, node: ScalarNode) -> Decimal:
        text = str(self.construct_scalar(node)).replace("_", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise StrictYamlError(
                f"{_where(self.document_name, node)}: number {text!r} is not a finite decimal"
            )
        return value


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_exact_number)


def _expanded_size(root: Node, name: str) -> int:
    """Nodes in the document with every alias expanded; refuses recursive anchors."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise StrictYamlError(f"{_where(name, node)}: recursive anchor")
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        open_nodes.discard(id(node))
        sizes[id(node)] = min(total, MAX_YAML_NODES + 1)
        return sizes[id(node)]

    return size(root)


def load_strict_yaml(text: str, name: str = "<yaml>") -> Any:
    """The YAML document in `text`, read strictly (see the module docstring)."""
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise StrictYamlError(f"{name}: {size:,} bytes, over the limit of {MAX_YAML_BYTES:,}")
    loader = _StrictLoader(text)
    loader.document_name = name
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if _expanded_size(root, name) > MAX_YAML_NODES:
            raise StrictYamlError(
                f"{name}: more than {MAX_YAML_NODES:,} nodes once aliases are expanded "
                "(a YAML alias bomb?)"
            )
        return loader.construct_document(root)
    except yaml.YAMLError as error:
        raise StrictYamlError(f"{name}: not valid YAML: {error}") from None
    except RecursionError:
        raise StrictYamlError(f"{name}: nested too deeply") from None
    finally:
        loader.dispose()
