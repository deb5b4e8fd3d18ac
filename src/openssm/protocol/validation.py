"""Request validation from the service model, reported in AWS's words.

AWS's servers check required members, lengths, value ranges, patterns and enums, and answer
`N validation error(s) detected: Value 'x' at 'member.path' failed to satisfy constraint: …`, several
joined by '; ', at most 10. Paths lower-case each member's first letter and name list items
`parameterFilters.1.member.key` and map values `parameters.commands.member`. Sensitive values are not
echoed (`Value at 'plaintext' …`). A list of scalars, a map's keys and a map's scalar values are judged as
a whole: one error at the container listing every constraint of the item shape,
`Member must satisfy constraint: [Member must have length less than or equal to 253, …]`.
Each node's checks are compiled once into closures; a request only runs them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from botocore.model import Shape

from openssm.errors import ValidationError
from openssm.protocol.java_regex import JavaRegexError, compile_java
from openssm.protocol.plan import Kind, Node, plan

log = logging.getLogger(__name__)

MAX_REPORTED = 10

Check = Callable[[Any, str, list[str]], None]
Rule = tuple[Callable[[Any], bool], str]  # (is the value in breach?, the constraint in AWS's words)


def java_text(value: Any) -> str:
    """How AWS's Java servers print a value in a validation message (`toString`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, list):
        return "[" + ", ".join(java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _number(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _pattern(node: Node) -> Any:
    if node.kind is not Kind.STRING or not node.pattern:
        return None
    try:
        return compile_java(node.pattern)
    except JavaRegexError:
        log.warning("pattern of %s not enforced: it does not compile", node.name)
        return None


def _rules(node: Node) -> list[Rule]:
    """The node's own constraints, in the order AWS lists them."""
    rules: list[Rule] = []
    lo, hi = node.min, node.max
    if node.kind in (Kind.STRING, Kind.BLOB, Kind.LIST, Kind.MAP):
        if hi is not None:
            rules.append((lambda v: len(v) > hi, f"Member must have length less than or equal to {_number(hi)}"))
        if lo is not None:
            rules.append((lambda v: len(v) < lo, f"Member must have length greater than or equal to {_number(lo)}"))
    elif node.kind in (Kind.INTEGER, Kind.FLOAT):
        if hi is not None:
            rules.append((lambda v: v > hi, f"Member must have value less than or equal to {_number(hi)}"))
        if lo is not None:
            rules.append((lambda v: v < lo, f"Member must have value greater than or equal to {_number(lo)}"))
    regex = _pattern(node)
    if regex is not None:
        rules.append((lambda v: regex.fullmatch(v) is None,
                      f"Member must satisfy regular expression pattern: {node.pattern}"))
    if node.kind is Kind.STRING and node.enum:
        allowed = frozenset(node.enum)
        rules.append((lambda v: v not in allowed, f"Member must satisfy enum value set: [{', '.join(node.enum)}]"))
    return rules


def _fits(node: Node) -> Callable[[Any], bool]:
    """One predicate for all of the node's constraints: the fast path of every request that is valid."""
    lo = -math.inf if node.min is None else node.min
    hi = math.inf if node.max is None else node.max
    if node.kind in (Kind.INTEGER, Kind.FLOAT):
        return lambda v: lo <= v <= hi
    regex, allowed = _pattern(node), frozenset(node.enum) if node.kind is Kind.STRING else frozenset()
    if regex is None and not allowed:
        return lambda v: lo <= len(v) <= hi
    match = regex.fullmatch if regex is not None else lambda v: True
    return lambda v: lo <= len(v) <= hi and match(v) is not None and (not allowed or v in allowed)


def _fail(errors: list[str], hidden: bool, value: Any, path: str, constraint: str) -> None:
    if len(errors) < MAX_REPORTED:
        shown = " null" if value is None else "" if hidden else f" '{java_text(value)}'"
        errors.append(f"Value{shown} at '{path}' failed to satisfy constraint: {constraint}")


def _hidden(node: Node) -> bool:
    return node.sensitive or any(n is not None and n.sensitive for n in (node.member, node.key, node.value))


class _Compiler:
    """Builds the checks of a node graph; a node met again while being built is called through a lookup.

    A sensitive node hides every value beneath it too, so a node is compiled once per hidden-ness.
    """

    def __init__(self) -> None:
        self.done: dict[tuple[Node, bool], Check | None] = {}
        self.building: set[tuple[Node, bool]] = set()

    def check(self, node: Node, hidden: bool) -> Check | None:
        key = (node, hidden or _hidden(node))
        if key in self.done:
            return self.done[key]
        if key in self.building:
            return lambda value, path, errors: self._late(key, value, path, errors)
        self.building.add(key)
        built = self._build(*key)
        self.building.discard(key)
        self.done[key] = built
        return built

    def _late(self, key: tuple[Node, bool], value: Any, path: str, errors: list[str]) -> None:
        found = self.done.get(key)
        if found is not None:
            found(value, path, errors)

    def _build(self, node: Node, hidden: bool) -> Check | None:
        if node.kind is Kind.STRUCTURE:
            return self._structure(node, hidden)
        if node.kind is Kind.LIST or node.kind is Kind.MAP:
            return self._container(node, hidden)
        return _scalar(node, hidden)

    def _structure(self, node: Node, hidden: bool) -> Check | None:
        parts = [(f.name, f.path, f.required, self.check(f.node, hidden)) for f in node.fields]
        parts = [p for p in parts if p[2] or p[3] is not None]
        if not parts:
            return None

        def check(value: Any, path: str, errors: list[str]) -> None:
            prefix = path + "." if path else ""
            for name, segment, required, child in parts:
                item = value.get(name)
                if item is None:
                    if required:
                        _fail(errors, False, None, prefix + segment, "Member must not be null")
                elif child is not None:
                    child(item, prefix + segment, errors)

        return check

    def _container(self, node: Node, hidden: bool) -> Check | None:
        parts = [_scalar(node, hidden)]
        if node.member is not None:
            parts.append(self._items(node, node.member, hidden, "Member", list, node.member.is_scalar))
        if node.key is not None and node.value is not None:
            parts.append(self._items(node, node.key, hidden, "Map keys", lambda v: list(v.keys()), True))
            parts.append(self._items(node, node.value, hidden, "Map value", lambda v: list(v.values()),
                                     node.value.is_scalar))
        checks = [c for c in parts if c is not None]
        if len(checks) <= 1:
            return checks[0] if checks else None

        def check(value: Any, path: str, errors: list[str]) -> None:
            for part in checks:
                part(value, path, errors)

        return check

    def _items(self, node: Node, item: Node, hidden: bool, label: str, pick: Callable[[Any], list[Any]],
               as_whole: bool) -> Check | None:
        if as_whole:
            return _whole(item, hidden or item.sensitive, label, pick)
        child = self.check(item, hidden)
        keyed = node.kind is Kind.MAP

        def check(value: Any, path: str, errors: list[str]) -> None:
            pairs = value.items() if keyed else enumerate(value, start=1)
            for at, element in pairs:
                if len(errors) >= MAX_REPORTED:
                    return
                where = f"{path}.{at}.member"
                if element is None:
                    _fail(errors, False, None, where, "Member must not be null")
                elif child is not None:
                    child(element, where, errors)

        return check


def _whole(item: Node, hidden: bool, label: str, pick: Callable[[Any], list[Any]]) -> Check:
    """Scalar items judged together: one error at the container naming all the item's constraints."""
    words = [text for _, text in _rules(item)]
    fits = _fits(item) if words else (lambda v: True)

    def check(value: Any, path: str, errors: list[str]) -> None:
        values = pick(value)
        has_null = None in values
        if has_null or not all(fits(v) for v in values):
            listed = [*words, "Member must not be null"] if has_null else words
            _fail(errors, hidden, value, path, f"{label} must satisfy constraint: [{', '.join(listed)}]")

    return check


def _scalar(node: Node, hidden: bool) -> Check | None:
    rules = _rules(node)
    if not rules:
        return None
    fits = _fits(node)

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not fits(value):
            for breached, constraint in rules:
                if breached(value):
                    _fail(errors, hidden, value, path, constraint)

    return check


@cache
def checker(node: Node) -> Check | None:
    """The compiled checks of a root node, or None when nothing in it is constrained."""
    return _Compiler().check(node, False)


def errors_of(shape: Shape | None, params: Mapping[str, Any]) -> list[str]:
    """Every constraint `params` breaks (at most MAX_REPORTED), in AWS's words."""
    if shape is None:
        return []
    check = checker(plan(shape))
    errors: list[str] = []
    if check is not None:
        check(params, "", errors)
    return errors


def validate(shape: Shape | None, params: Mapping[str, Any]) -> None:
    """Raise ValidationError listing what `params` breaks, worded and counted as AWS does."""
    errors = errors_of(shape, params)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise ValidationError(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
