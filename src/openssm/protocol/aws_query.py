"""AWS query protocol (IAM, STS): form-encoded requests in, XML responses and errors out.

A request's keys are dotted paths (`Tags.member.1.Key`, `Attributes.entry.1.value`, a flattened list's
`Name.1`); they are read into a tree once and the input shape is walked over it. What AWS's query
deserializer refuses — a boolean other than true/false/1/0, a number that is not one, list index 0 — is a
`MalformedInput` error; what it reads is then validated like any request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import OperationModel, ServiceModel

from openssm.errors import SerializationError
from openssm.protocol import scalars
from openssm.protocol.plan import Kind, Node, plan
from openssm.protocol.validation import validate
from openssm.protocol.xml_writer import escape, write_members

CONTENT_TYPE = "text/xml"
IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"

_NOUNS = {
    "integer": "an integer", "long": "a long", "short": "a short", "byte": "a byte", "float": "a float",
    "double": "a double", "timestamp": "a timestamp", "blob": "base64 data",
}
# Java's parsers, not Python's: no underscores, no Unicode digits.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|NaN|[+-]?Infinity")


def malformed(message: str) -> SerializationError:
    return SerializationError(message, code="MalformedInput")


class _Branch:
    """One dotted segment of the form: its own value, if the form has that exact key, and its children."""

    __slots__ = ("value", "children")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Branch] = {}


def _tree(form: Mapping[str, str]) -> _Branch:
    root = _Branch()
    for key, value in form.items():
        branch = root
        for part in key.split("."):
            child = branch.children.get(part)
            if child is None:
                child = branch.children[part] = _Branch()
            branch = child
        branch.value = value
    return root


def _indexed(branch: _Branch | None) -> list[tuple[str, _Branch]]:
    """The children of `branch` named by a 1-based index, in index order (`01` is 1; gaps close up)."""
    if branch is None:
        return []
    found: list[tuple[int, str, _Branch]] = []
    for part, child in branch.children.items():
        if part.isascii() and part.isdigit():
            index = int(part)
            if index == 0:
                raise malformed("0 is not a valid index")
            found.append((index, part, child))
    found.sort(key=lambda entry: (entry[0], len(entry[1])))
    return [(part, child) for _, part, child in found]


def _boolean(raw: str) -> bool:
    # Probed against AWS: xsd 1.1 booleans, case-sensitive.
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise malformed("missing value for boolean type" if raw == "" else "boolean must follow xsd1.1 definition")


def _integer(raw: str) -> int:
    if _INTEGER.fullmatch(raw) is None:
        raise ValueError(raw)
    return int(raw)


def _float(raw: str) -> float:
    if _DECIMAL.fullmatch(raw) is None:
        raise ValueError(raw)
    return float(raw)


def _as_is(raw: str) -> str:
    return raw


_PARSERS: dict[Kind, Callable[[str], Any]] = {
    Kind.STRING: _as_is, Kind.DOCUMENT: _as_is, Kind.BOOLEAN: _boolean, Kind.INTEGER: _integer, Kind.FLOAT: _float,
    Kind.TIMESTAMP: scalars.parse_timestamp_text, Kind.BLOB: scalars.b64decode,
}


def _read_scalar(node: Node, branch: _Branch, key: str) -> Any:
    raw = branch.value
    if raw is None:
        return None
    try:
        return _PARSERS[node.kind](raw)
    except ValueError:
        raise malformed(f"Value '{raw}' for parameter {key} is not {_NOUNS.get(node.type_name, node.type_name)}") \
            from None


def _read_list(node: Node, branch: _Branch, key: str) -> list[Any] | None:
    member = node.member
    assert member is not None
    prefix = key if node.flattened else f"{key}.{member.wire or 'member'}"
    items = _indexed(branch if node.flattened else branch.children.get(member.wire or "member"))
    if not items and branch.value is None:
        return None  # only the key of an empty list (`Tags=`) means []
    read = _READERS[member.kind]
    values = [read(member, item, f"{prefix}.{part}") for part, item in items]
    return [v for v in values if v is not None]


def _read_map(node: Node, branch: _Branch, key: str) -> dict[str, Any] | None:
    key_node, item_node = node.key, node.value
    assert key_node is not None and item_node is not None
    prefix = key if node.flattened else f"{key}.entry"
    entries = _indexed(branch if node.flattened else branch.children.get("entry"))
    if not entries and branch.value is None:
        return None
    key_name, item_name = key_node.wire or "key", item_node.wire or "value"
    read = _READERS[item_node.kind]
    out: dict[str, Any] = {}
    for part, entry in entries:
        name = entry.children.get(key_name)
        item = entry.children.get(item_name)
        if name is None or name.value is None:
            continue
        out[name.value] = None if item is None else read(item_node, item, f"{prefix}.{part}.{item_name}")
    return out


def _read_structure(node: Node, branch: _Branch, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    children = branch.children
    if not children:
        return out
    for field in node.fields:
        child = children.get(field.wire)
        if child is not None:
            member = field.node
            value = _READERS[member.kind](member, child, f"{key}.{field.wire}" if key else field.wire)
            if value is not None:
                out[field.name] = value
    return out


_READERS: dict[Kind, Callable[[Node, _Branch, str], Any]] = {
    **{kind: _read_scalar for kind in _PARSERS}, Kind.STRUCTURE: _read_structure, Kind.LIST: _read_list,
    Kind.MAP: _read_map,
}


def decode_request(op: OperationModel, form: Mapping[str, str]) -> dict[str, Any]:
    """Read a query-protocol request without validating constraints (`Action`, `Version`, strangers ignored)."""
    shape = op.input_shape
    return _read_structure(plan(shape), _tree(form), "") if shape is not None else {}


def parse_request(op: OperationModel, form: Mapping[str, str]) -> dict[str, Any]:
    """Read and validate a query-protocol request."""
    params = decode_request(op, form)
    validate(op.input_shape, params)
    return params


def namespace_of(service: ServiceModel) -> str:
    """The XML namespace of a query service's responses: the model's, else AWS's usual spelling."""
    meta = service.metadata
    return str(meta.get("xmlNamespace") or f"https://{meta['endpointPrefix']}.amazonaws.com/doc/{meta['apiVersion']}/")


def serialize_response(op: OperationModel, result: Mapping[str, Any], request_id: str, *,
                       strict: bool = False) -> bytes:
    """`<{Op}Response xmlns=…><{Op}Result>…</{Op}Result><ResponseMetadata>…</ResponseMetadata></{Op}Response>`.

    An operation without an output shape still gets its Response element and ResponseMetadata. `strict`
    raises on members the shape lacks and on values of the wrong type instead of dropping them.
    """
    name = op.name
    out = [f'<{name}Response xmlns="{namespace_of(op.service_model)}">']
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper") or f"{name}Result"
        out.append(f"<{wrapper}>")
        write_members(plan(shape), result, out, strict)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata></{name}Response>")
    return "".join(out).encode()


def serialize_error(code: str, message: str, request_id: str, sender: bool = True, *,
                    namespace: str = IAM_NAMESPACE) -> bytes:
    """`<ErrorResponse>` with Type Sender (the caller's fault) or Receiver, Code, Message and RequestId."""
    kind = "Sender" if sender else "Receiver"
    text = f"<Message>{escape(message)}</Message>" if message else ""
    return (f'<ErrorResponse xmlns="{escape(namespace)}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
            f"{text}</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>").encode()
