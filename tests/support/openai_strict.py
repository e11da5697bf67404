"""OpenAI's strict mode (Structured Outputs, "Supported schemas"), as a checker of the
schemas a framework sends when it asks for ``strict: true``.

The documented subset, one row a rule: the root is an object (not an ``anyOf``); every
object lists all its properties as required and sets ``additionalProperties: false``;
types are the supported ones, null made optional by a type list (``["string", "null"]``)
or an ``anyOf``; the keywords documented as not supported appear nowhere; at most 10
levels of nesting and 1000 enum values.  ``default`` is refused too: older models and
Azure's deployments answer "'default' is not permitted" (only ``default: null`` is
dropped by the frameworks, and it must be).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

SUPPORTED_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})

# "Some type-specific keywords are not yet supported", and the composition keywords.
UNSUPPORTED = frozenset(
    {
        # composition
        "allOf",
        "not",
        "oneOf",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        # strings
        "minLength",
        "maxLength",
        # objects
        "patternProperties",
        "unevaluatedProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        # arrays
        "unevaluatedItems",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
        # see the module docstring
        "default",
    }
)

Node = dict[str, Any]


def _nodes(node: Node, path: str = "", depth: int = 1) -> Iterator[tuple[str, Node, int]]:
    yield path or "(root)", node, depth
    for name, child in (node.get("properties") or {}).items():
        yield from _nodes(child, f"{path}.{name}", depth + 1)
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], f"{path}[]", depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        for index, child in enumerate(node.get(key) or []):
            yield from _nodes(child, f"{path}|{key}{index}", depth)
    for name, child in (node.get("$defs") or {}).items():
        yield from _nodes(child, f"$defs.{name}", 1)


def _types(node: Node) -> list[str]:
    kind = node.get("type")
    return kind if isinstance(kind, list) else [] if kind is None else [kind]


def _is_object(node: Node) -> bool:
    return "object" in _types(node) or "properties" in node


RULES: list[tuple[str, Callable[[Node, int], bool]]] = [
    ("an object sets additionalProperties: false", lambda n, _: not _is_object(n) or n.get("additionalProperties") is False),
    ("an object requires every property", lambda n, _: not _is_object(n) or sorted(n.get("required", [])) == sorted(n.get("properties", {}))),
    ("types are supported ones", lambda n, _: set(_types(n)) <= SUPPORTED_TYPES),
    ("a node has a type, an anyOf or a $ref", lambda n, _: bool(_types(n)) or "anyOf" in n or "$ref" in n or "enum" in n or "const" in n),
    ("no unsupported keyword", lambda n, _: not (set(n) & UNSUPPORTED)),
    ("at most 10 levels of nesting", lambda _, depth: depth <= 10),
    ("at most 1000 enum values", lambda n, _: len(n.get("enum", [])) <= 1000),
]  # fmt: skip


def strict_violations(parameters: Node) -> list[str]:
    """What in ``parameters`` (a function's JSON schema) OpenAI's strict mode refuses."""
    problems = []
    if "object" not in _types(parameters) or "anyOf" in parameters:
        problems.append("(root): the root is an object, not an anyOf")
    for path, node, depth in _nodes(parameters):
        problems += [f"{path}: {rule}" for rule, holds in RULES if not holds(node, depth)]
    return problems
