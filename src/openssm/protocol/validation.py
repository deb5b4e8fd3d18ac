"""Request validation from the service model, reported in AWS's words.

AWS's servers check required members, lengths, ranges, patterns and enums and answer
`N validation error(s) detected: Value '…' at 'member.path' failed to satisfy constraint: …`, joining
several with '; '. Patterns are Java regular expressions matched whole; the `regex` package understands
their `\\p{…}` classes, which `re` does not.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import regex
from botocore.model import ListShape, MapShape, Shape, StructureShape

from openssm.errors import ValidationError

_MAX_REPORTED = 10


def _member_path(parent: str, name: str) -> str:
    key = name[:1].lower() + name[1:]
    return f"{parent}.{key}" if parent else key


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + "}"
    return str(value)


@cache
def _compiled(pattern: str) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern, regex.V0)
    except regex.error:
        return None  # a pattern Java accepts and we cannot compile is not enforced rather than refusing all


def _check_scalar(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata

    def fail(constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        errors.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    if shape.type_name == "string" or isinstance(shape, ListShape | MapShape):
        length = len(value)
        if "min" in meta and length < meta["min"]:
            fail(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and length > meta["max"]:
            fail(f"Member must have length less than or equal to {meta['max']}")
    if shape.type_name == "string":
        pattern = meta.get("pattern")
        if pattern:
            compiled = _compiled(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                fail(f"Member must satisfy regular expression pattern: {pattern}")
        enum = shape.enum
        if enum and value not in enum:
            fail(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    elif shape.type_name in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            fail(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            fail(f"Member must have value less than or equal to {meta['max']}")


def _walk(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: "
                              "Member must not be null")
        members = shape.members
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                _walk(member, item, _member_path(path, name), errors)
        return
    _check_scalar(shape, value, path, errors)
    if isinstance(shape, ListShape):
        for i, item in enumerate(value, start=1):
            if item is not None:
                _walk(shape.member, item, f"{path}.{i}.member", errors)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.key", errors)
            if item is not None:
                _walk(shape.value, item, f"{path}.{key}.member", errors)


def validate(shape: StructureShape | None, params: dict[str, Any]) -> None:
    """Raise ValidationError listing every constraint `params` breaks, as AWS words it."""
    if shape is None:
        return
    errors: list[str] = []
    _walk(shape, params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(errors[:_MAX_REPORTED]))
