"""Compiled shapes: what both codecs and the validator need from a botocore shape, worked out once.

botocore's `Shape` objects recompute little but answer slowly (properties, dict lookups, new member
shapes per parent). A `Node` holds the same facts flat — kind, wire names, required members, constraints
— so the per-request walks in `aws_json`, `aws_query`, `xml_writer` and `validation` only read attributes.
Recursive shapes (an SSM inventory aggregator holds aggregators) become cyclic node graphs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape


class Kind(StrEnum):
    """What a shape is on the wire. (A StrEnum hashes at C speed: the codecs dispatch on it per value.)"""

    STRUCTURE = "structure"
    LIST = "list"
    MAP = "map"
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    BLOB = "blob"
    DOCUMENT = "document"


_KINDS = {
    "structure": Kind.STRUCTURE, "list": Kind.LIST, "map": Kind.MAP, "string": Kind.STRING,
    "character": Kind.STRING, "integer": Kind.INTEGER, "long": Kind.INTEGER, "byte": Kind.INTEGER,
    "short": Kind.INTEGER, "float": Kind.FLOAT, "double": Kind.FLOAT, "boolean": Kind.BOOLEAN,
    "timestamp": Kind.TIMESTAMP, "blob": Kind.BLOB,
}


SCALARS = frozenset({Kind.STRING, Kind.INTEGER, Kind.FLOAT, Kind.BOOLEAN, Kind.TIMESTAMP, Kind.BLOB})


@dataclass(eq=False, slots=True)
class Field:
    """A structure member: its dict key, its segment in AWS's validation paths, its wire name."""

    name: str
    path: str  # the member name with its first letter lower-cased: `parameterFilters`
    wire: str  # query key / XML element: locationName, or a flattened list's member name
    node: Node
    required: bool


@dataclass(eq=False, slots=True)
class Node:
    """One shape as referenced from its parent (member traits such as locationName included)."""

    kind: Kind
    type_name: str  # botocore's: 'long' and 'integer' share a kind but not AWS's wording
    name: str
    shape: Shape
    wire: str | None = None  # the reference's locationName
    flattened: bool = False
    sensitive: bool = False
    union: bool = False  # a structure that holds exactly one of its members
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()
    by_name: dict[str, Field] = field(default_factory=dict)
    member: Node | None = None
    key: Node | None = None
    value: Node | None = None

    @property
    def is_scalar(self) -> bool:
        return self.kind in SCALARS


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _memo_key(shape: Shape) -> tuple[str, str]:
    # A shape name alone does not identify a node: member traits (locationName…) differ per reference.
    return shape.name, repr(sorted(shape.serialization.items()))


def _kind(shape: Shape) -> Kind:
    if shape.type_name == "structure" and shape.metadata.get("document"):
        return Kind.DOCUMENT
    try:
        return _KINDS[shape.type_name]
    except KeyError:
        raise ValueError(f"shape {shape.name} has unsupported type {shape.type_name!r}") from None


def _build(shape: Shape, memo: dict[tuple[str, str], Node]) -> Node:
    key = _memo_key(shape)
    existing = memo.get(key)
    if existing is not None:
        return existing
    meta: dict[str, Any] = shape.metadata
    node = Node(
        kind=_kind(shape), type_name=shape.type_name, name=shape.name, shape=shape,
        wire=shape.serialization.get("name"), flattened=bool(shape.serialization.get("flattened")),
        sensitive=bool(meta.get("sensitive")), union=bool(meta.get("union")), min=meta.get("min"), max=meta.get("max"),
        pattern=meta.get("pattern"), enum=tuple(meta.get("enum", ())),
    )
    memo[key] = node  # registered before its children, so a cycle finds it
    if isinstance(shape, StructureShape) and node.kind is Kind.STRUCTURE:
        required = set(shape.required_members)
        node.fields = tuple(_field(name, member, name in required, memo) for name, member in shape.members.items())
        node.by_name = {f.name: f for f in node.fields}
    elif isinstance(shape, ListShape):
        node.member = _build(shape.member, memo)
    elif isinstance(shape, MapShape):
        node.key = _build(shape.key, memo)
        node.value = _build(shape.value, memo)
    return node


def _field(name: str, shape: Shape, required: bool, memo: dict[tuple[str, str], Node]) -> Field:
    node = _build(shape, memo)
    wire = node.wire or name
    # botocore's query serializer and XML parser name a flattened list's items after its member.
    if node.kind is Kind.LIST and node.flattened and node.member is not None and node.member.wire:
        wire = node.member.wire
    return Field(name, lower_first(name), wire, node, required)


@cache
def plan(shape: Shape) -> Node:
    """The compiled node of `shape` (an operation's input or output), built once per shape object."""
    return _build(shape, {})


class UnknownMemberError(ValueError):
    """A handler's result has a member its output shape lacks (the serializers raise it only when strict)."""


def check_union(node: Node, value: Mapping[str, Any]) -> None:
    """Raise unless a union's value sets exactly one member (clients refuse anything else)."""
    if node.union and sum(item is not None for item in value.values()) != 1:
        raise ValueError(f"{node.name} is a union: set exactly one of its members, not {sorted(value)}")
