"""AWS query protocol (IAM, STS): form-encoded requests in, XML responses out, driven by the model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from openssm.errors import ValidationError
from openssm.protocol.shapes import b64, iso8601, parse_blob, parse_timestamp
from openssm.protocol.validation import validate


def _wire_name(name: str, shape: Shape) -> str:
    return str(shape.serialization.get("name", name))


def _scalar(shape: Shape, raw: str, key: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
    except ValueError as err:
        raise ValidationError(f"1 validation error detected: Value '{raw}' at '{key}' failed to satisfy "
                              f"constraint: Member must be a number") from err
    if kind == "boolean":
        return raw.lower() == "true"
    if kind == "timestamp":
        return parse_timestamp(raw)
    if kind == "blob":
        return parse_blob(raw)
    return raw


def _has_prefix(form: Mapping[str, str], prefix: str) -> bool:
    dotted = prefix + "."
    return any(k == prefix or k.startswith(dotted) for k in form)


def _read(shape: Shape, form: Mapping[str, str], key: str) -> Any:
    if isinstance(shape, StructureShape):
        out = {}
        for name, member in shape.members.items():
            sub = f"{key}.{_wire_name(name, member)}" if key else _wire_name(name, member)
            if _has_prefix(form, sub):
                out[name] = _read(member, form, sub)
        return out
    if isinstance(shape, ListShape):
        base = key if shape.serialization.get("flattened") else f"{key}.{_wire_name('member', shape.member)}"
        items, i = [], 1
        while _has_prefix(form, f"{base}.{i}"):
            items.append(_read(shape.member, form, f"{base}.{i}"))
            i += 1
        return items
    if isinstance(shape, MapShape):
        base = key if shape.serialization.get("flattened") else f"{key}.entry"
        key_name, value_name = _wire_name("key", shape.key), _wire_name("value", shape.value)
        result, i = {}, 1
        while _has_prefix(form, f"{base}.{i}"):
            result[form.get(f"{base}.{i}.{key_name}", "")] = _read(shape.value, form, f"{base}.{i}.{value_name}")
            i += 1
        return result
    return _scalar(shape, form.get(key, ""), key)


def parse_request(op: OperationModel, form: Mapping[str, str]) -> dict[str, Any]:
    """Read and validate a query-protocol request (Action, Version and the op's members)."""
    shape = op.input_shape
    params: dict[str, Any] = _read(shape, form, "") if shape is not None else {}
    validate(shape, params)
    return params


def _xml_scalar(shape: Shape, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if shape.type_name == "timestamp" and isinstance(value, dt.datetime):
        return iso8601(value)
    if shape.type_name == "blob" and isinstance(value, bytes | bytearray):
        return b64(bytes(value))
    return escape(str(value))


def _xml(shape: Shape, name: str, value: Any, out: list[str]) -> None:
    if isinstance(shape, ListShape):
        member_name = _wire_name("member", shape.member)
        if shape.serialization.get("flattened"):
            for item in value:
                _xml(shape.member, name, item, out)
            return
        out.append(f"<{name}>")
        for item in value:
            _xml(shape.member, member_name, item, out)
        out.append(f"</{name}>")
        return
    out.append(f"<{name}>")
    if isinstance(shape, StructureShape):
        _members(shape, value, out)
    elif isinstance(shape, MapShape):
        key_name, value_name = _wire_name("key", shape.key), _wire_name("value", shape.value)
        for k, v in value.items():
            out.append(f"<entry><{key_name}>{escape(str(k))}</{key_name}>")
            _xml(shape.value, value_name, v, out)
            out.append("</entry>")
    else:
        out.append(_xml_scalar(shape, value))
    out.append(f"</{name}>")


def _members(shape: StructureShape, value: Mapping[str, Any], out: list[str]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is not None:
            _xml(member, _wire_name(name, member), item, out)


def _namespace(op: OperationModel) -> str:
    meta = op.service_model.metadata
    return str(meta.get("xmlNamespace") or
               f"https://{meta['endpointPrefix']}.amazonaws.com/doc/{meta['apiVersion']}/")


def serialize_response(op: OperationModel, result: dict[str, Any], request_id: str) -> bytes:
    out = [f'<{op.name}Response xmlns="{_namespace(op)}">']
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
        out.append(f"<{wrapper}>")
        _members(shape, result, out)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op.name}Response>")
    return "".join(out).encode()


def serialize_error(code: str, message: str, request_id: str, sender: bool = True,
                    namespace: str = "https://iam.amazonaws.com/doc/2010-05-08/") -> bytes:
    kind = "Sender" if sender else "Receiver"
    return (f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            ).encode()
