"""AWS JSON 1.1 (SSM, KMS, Organizations, CloudTrail, ec2messages): requests in, responses and errors out.

Reading follows AWS's deserializer: unknown members and nulls are ignored, a value of the wrong JSON type
stops the request with a SerializationException worded as AWS words it (`STRING_VALUE can not be converted
to an Integer`, `Start of list found where not expected`), and only a well-typed request is validated.
Timestamps arrive as epoch seconds (ISO-8601 text is accepted too), blobs as base64.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel

from openssm.errors import SerializationError
from openssm.protocol import scalars
from openssm.protocol.plan import Kind, Node, UnknownMemberError, check_union, plan
from openssm.protocol.validation import validate

CONTENT_TYPE = "application/x-amz-json-1.1"

# The Java type AWS names in "… can not be converted to <type>".
_JAVA_TYPE = {
    "string": "a String", "character": "a String", "integer": "an Integer", "long": "a Long",
    "short": "a Short", "byte": "a Byte", "float": "a Float", "double": "a Double", "boolean": "a Boolean",
    "timestamp": "a Date", "blob": "a Blob",
}
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python reads NaN and Infinity; JSON and AWS do not


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _token(value: Any) -> str:
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    return "STRING_VALUE" if isinstance(value, str) else "NUMBER_VALUE"


def _mismatch(node: Node, value: Any) -> SerializationError:
    """AWS's message for a JSON value whose type does not fit the shape."""
    if isinstance(value, list):
        message = "Start of list found where not expected"
    elif isinstance(value, dict):
        message = "Start of structure or map found where not expected."
    elif node.kind is Kind.LIST:
        message = "Expected list or null"
    elif node.kind is Kind.MAP:
        message = "Expected map or null"
    elif node.kind is Kind.STRUCTURE:
        message = "Expected null"
    else:
        message = f"{_token(value)} can not be converted to {_JAVA_TYPE.get(node.type_name, 'a ' + node.type_name)}"
    return SerializationError(message)


def _structure(node: Node, value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _mismatch(node, value)
    by_name = node.by_name
    out: dict[str, Any] = {}
    for name, item in value.items():
        field = by_name.get(name)
        if field is not None and item is not None:
            member = field.node
            out[name] = _DECODERS[member.kind](member, item)
    return out


def _list(node: Node, value: Any) -> list[Any]:
    if type(value) is not list:
        raise _mismatch(node, value)
    member = node.member
    assert member is not None
    return [None if item is None else _decode(member, item) for item in value]


def _map(node: Node, value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _mismatch(node, value)
    item_node = node.value
    assert item_node is not None
    return {key: None if item is None else _decode(item_node, item) for key, item in value.items()}


def _string(node: Node, value: Any) -> str:
    if type(value) is not str:
        raise _mismatch(node, value)
    return value


def _integer(node: Node, value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return int(value)  # Java's BigDecimal.intValue: the fraction is dropped
    raise _mismatch(node, value)


def _float(node: Node, value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise _mismatch(node, value)


def _boolean(node: Node, value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _mismatch(node, value)


def _timestamp(node: Node, value: Any) -> dt.datetime:
    try:
        if type(value) is int or type(value) is float:
            return scalars.from_epoch(value)
        if type(value) is str:
            return scalars.parse_timestamp_text(value)
    except ValueError:
        raise SerializationError(f"'{value}' can not be converted to a Date") from None
    raise _mismatch(node, value)


def _blob(node: Node, value: Any) -> bytes:
    if type(value) is not str:
        raise _mismatch(node, value)
    try:
        return scalars.b64decode(value)
    except ValueError as err:
        raise SerializationError(f"'{value}' can not be converted to a Blob: {err}") from err


def _document(node: Node, value: Any) -> Any:
    return value


_DECODERS: dict[Kind, Callable[[Node, Any], Any]] = {
    Kind.STRUCTURE: _structure, Kind.LIST: _list, Kind.MAP: _map, Kind.STRING: _string, Kind.INTEGER: _integer,
    Kind.FLOAT: _float, Kind.BOOLEAN: _boolean, Kind.TIMESTAMP: _timestamp, Kind.BLOB: _blob,
    Kind.DOCUMENT: _document,
}


def _decode(node: Node, value: Any) -> Any:
    return _DECODERS[node.kind](node, value)


def decode_request(op: OperationModel, body: bytes) -> dict[str, Any]:
    """Decode and type-check a JSON 1.1 request body for `op`, without validating constraints.

    An empty body reads as `{}`.
    """
    if not body.strip():
        return {}
    try:
        raw = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        # AWS answers an unreadable body with a bare SerializationException, no message.
        raise SerializationError() from None
    if type(raw) is not dict:
        raise SerializationError("Start of list found where not expected" if type(raw) is list else "")
    shape = op.input_shape
    if shape is None:
        return {}
    try:
        return _structure(plan(shape), raw)
    except RecursionError:
        raise SerializationError() from None  # nested deeper than any caller means to


def parse_request(op: OperationModel, body: bytes) -> dict[str, Any]:
    """Decode, type-check and validate a JSON 1.1 request body for `op`."""
    params = decode_request(op, body)
    try:
        validate(op.input_shape, params)
    except RecursionError:
        raise SerializationError() from None
    return params


def _encode_structure(node: Node, value: Any, strict: bool) -> dict[str, Any]:
    by_name = node.by_name
    out = {}
    for name, item in value.items():
        field = by_name.get(name)
        if field is None:
            if strict:
                raise UnknownMemberError(f"{node.name} has no member {name!r}")
        elif item is not None:
            member = field.node
            kind = member.kind
            out[name] = item if kind in _AS_IS and not strict else _ENCODERS[kind](member, item, strict)
    if strict:
        check_union(node, out)
    return out


def _encode_list(node: Node, value: Any, strict: bool) -> list[Any]:
    member = node.member
    assert member is not None
    encode = _ENCODERS[member.kind]
    return [encode(member, item, strict) for item in value if item is not None]


def _encode_map(node: Node, value: Any, strict: bool) -> dict[str, Any]:
    item_node = node.value
    assert item_node is not None
    encode = _ENCODERS[item_node.kind]
    return {key: encode(item_node, item, strict) for key, item in value.items() if item is not None}


def _encode_timestamp(node: Node, value: Any, strict: bool) -> Any:
    return scalars.epoch_seconds(value) if isinstance(value, dt.datetime) else _encode_as_is(node, value, strict)


def _encode_blob(node: Node, value: Any, strict: bool) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return scalars.b64encode(value)
    return _encode_as_is(node, value, strict)


def _encode_as_is(node: Node, value: Any, strict: bool) -> Any:
    if strict:
        _check_scalar(node, value)
    return value


_AS_IS = frozenset({Kind.STRING, Kind.INTEGER, Kind.FLOAT, Kind.BOOLEAN, Kind.DOCUMENT})
_ENCODERS: dict[Kind, Callable[[Node, Any, bool], Any]] = {
    Kind.STRUCTURE: _encode_structure, Kind.LIST: _encode_list, Kind.MAP: _encode_map,
    Kind.TIMESTAMP: _encode_timestamp, Kind.BLOB: _encode_blob,
    **{kind: _encode_as_is for kind in _AS_IS},
}


_PYTHON_TYPES: dict[Kind, type | tuple[type, ...]] = {
    Kind.STRING: str, Kind.INTEGER: int, Kind.FLOAT: (int, float), Kind.BOOLEAN: bool,
    Kind.TIMESTAMP: (int, float), Kind.BLOB: (bytes, bytearray, memoryview),
}


def _check_scalar(node: Node, value: Any) -> None:
    expected = _PYTHON_TYPES.get(node.kind)
    if expected is None:
        return
    # bool is an int to Python but not to the wire.
    if not isinstance(value, expected) or isinstance(value, bool) != (node.kind is Kind.BOOLEAN):
        raise TypeError(f"{node.name} is {node.type_name} but the handler gave {type(value).__name__}")


def serialize_response(op: OperationModel, result: dict[str, Any], *, strict: bool = False) -> bytes:
    """The JSON body of a successful call: only the output shape's members, nulls dropped.

    `strict` (for tests and development) raises on members the shape lacks and on values of the wrong type
    instead of dropping or passing them.
    """
    shape = op.output_shape
    payload = _encode_structure(plan(shape), result, strict) if shape is not None else {}
    return _ENCODER.encode(payload).encode("utf-8")


def serialize_error(code: str, message: str = "", *, status: int = 400) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of an error: `{"__type": code, "message": …}` (no message when empty)."""
    body: dict[str, str] = {"__type": code}
    if message:
        body["message"] = message
    return status, {"content-type": CONTENT_TYPE, "x-amzn-errortype": code}, _ENCODER.encode(body).encode("utf-8")
