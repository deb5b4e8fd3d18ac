"""AWS JSON 1.1: request parsing, response and error serialization, driven by the service model."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from openssm.errors import SerializationError
from openssm.protocol.shapes import b64, epoch_seconds, parse_blob, parse_timestamp
from openssm.protocol.validation import validate

CONTENT_TYPE = "application/x-amz-json-1.1"


def _wrong_type(shape: Shape, value: Any) -> SerializationError:
    found = type(value).__name__
    return SerializationError(f"Expected {shape.type_name} for {shape.name} but found {found}")


def _decode(shape: Shape, value: Any) -> Any:
    if value is None:
        return None
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise SerializationError("Start of structure or map found where not expected." if isinstance(
                value, list) else _wrong_type(shape, value).message)
        members = shape.members
        return {k: _decode(members[k], v) for k, v in value.items() if k in members}
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise _wrong_type(shape, value)
        return [_decode(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise _wrong_type(shape, value)
        return {_decode(shape.key, k): _decode(shape.value, v) for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise _wrong_type(shape, value)
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(shape, value)
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(shape, value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong_type(shape, value)
        return value
    if kind == "timestamp":
        return parse_timestamp(value)
    if kind == "blob":
        return parse_blob(value)
    return value


def parse_request(op: OperationModel, body: bytes) -> dict[str, Any]:
    """Decode and validate a JSON 1.1 request body for `op`."""
    if not body.strip():
        raw: Any = {}
    else:
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise SerializationError("Unexpected character in the request body: not valid JSON") from err
    shape = op.input_shape
    if not isinstance(raw, dict):
        raise SerializationError("Start of list found where not expected" if isinstance(raw, list)
                                 else "Expected a JSON object as the request body")
    params: dict[str, Any] = _decode(shape, raw) if shape is not None else {}
    validate(shape, params)
    return params


def _encode(shape: Shape, value: Any) -> Any:
    if isinstance(shape, StructureShape):
        members = shape.members
        out = {}
        for name, item in value.items():
            if item is not None and name in members:
                out[name] = _encode(members[name], item)
        return out
    if isinstance(shape, ListShape):
        return [_encode(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        return {k: _encode(shape.value, v) for k, v in value.items()}
    if shape.type_name == "timestamp" and isinstance(value, dt.datetime):
        return epoch_seconds(value)
    if shape.type_name == "blob" and isinstance(value, bytes | bytearray):
        return b64(bytes(value))
    return value


def serialize_response(op: OperationModel, result: dict[str, Any]) -> bytes:
    shape = op.output_shape
    payload = _encode(shape, result) if shape is not None else {}
    return json.dumps(payload, separators=(",", ":")).encode()


def serialize_error(code: str, message: str, *, status: int = 400) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, {"content-type": CONTENT_TYPE, "x-amzn-errortype": code}, body
