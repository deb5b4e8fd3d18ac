"""Values to XML by their compiled shape, the way AWS's query services (IAM, STS) write responses.

Lists are `<Name><member>…</member></Name>` (or repeated elements when flattened), maps
`<entry><key/><value/></entry>`, names follow `locationName`. Text is escaped as AWS escapes it (`&apos;`
included); a carriage return is written `&#13;` so XML parsers do not turn it into a newline, and
characters XML 1.0 cannot carry at all become U+FFFD rather than a document no client can read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from openssm.protocol import scalars
from openssm.protocol.plan import Kind, Node, UnknownMemberError, check_union

_ESCAPES: dict[int, str] = {
    ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("'"): "&apos;", ord('"'): "&quot;",
    ord("\r"): "&#13;",
}
_NOT_XML = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000), 0xFFFE, 0xFFFF]
_TABLE = {**{point: "\ufffd" for point in _NOT_XML}, **_ESCAPES}
_NEEDS_ESCAPE = re.compile("[&<>'\"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    return text if _NEEDS_ESCAPE.search(text) is None else text.translate(_TABLE)


def _text(node: Node, value: Any, strict: bool) -> str:
    if isinstance(value, str):
        if strict and node.kind is not Kind.STRING:
            raise TypeError(f"{node.name} is {node.type_name} but the handler gave a string")
        return escape(value)
    if isinstance(value, bool):
        if strict and node.kind is not Kind.BOOLEAN:
            raise TypeError(f"{node.name} is {node.type_name} but the handler gave a boolean")
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return scalars.iso8601(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return scalars.b64encode(value)
    if node.kind is Kind.TIMESTAMP:
        return scalars.iso8601(scalars.from_epoch(float(value)))
    if strict and (node.kind not in (Kind.INTEGER, Kind.FLOAT) or not isinstance(value, int | float)):
        raise TypeError(f"{node.name} is {node.type_name} but the handler gave {type(value).__name__}")
    return escape(str(value))


def write(node: Node, tag: str, value: Any, out: list[str], strict: bool) -> None:
    """Append the element `tag` holding `value` (a flattened list or map is several elements)."""
    _WRITERS[node.kind](node, tag, value, out, strict)


def _write_structure(node: Node, tag: str, value: Any, out: list[str], strict: bool) -> None:
    out.append(f"<{tag}>")
    write_members(node, value, out, strict)
    out.append(f"</{tag}>")


def _write_list(node: Node, tag: str, value: Any, out: list[str], strict: bool) -> None:
    member = node.member
    assert member is not None
    writer = _WRITERS[member.kind]
    if node.flattened:
        for item in value:
            if item is not None:
                writer(member, tag, item, out, strict)
        return
    out.append(f"<{tag}>")
    item_tag = member.wire or "member"
    for item in value:
        if item is not None:
            writer(member, item_tag, item, out, strict)
    out.append(f"</{tag}>")


def _write_scalar(node: Node, tag: str, value: Any, out: list[str], strict: bool) -> None:
    out.append(f"<{tag}>{_text(node, value, strict)}</{tag}>")


def _write_map(node: Node, tag: str, value: Mapping[str, Any], out: list[str], strict: bool) -> None:
    key_node, item_node = node.key, node.value
    assert key_node is not None and item_node is not None
    key_tag, item_tag = key_node.wire or "key", item_node.wire or "value"
    entry_open, entry_close = (f"<{tag}>", f"</{tag}>") if node.flattened else ("<entry>", "</entry>")
    if not node.flattened:
        out.append(f"<{tag}>")
    for key, item in value.items():
        if item is None:
            continue
        out.append(f"{entry_open}<{key_tag}>{escape(str(key))}</{key_tag}>")
        write(item_node, item_tag, item, out, strict)
        out.append(entry_close)
    if not node.flattened:
        out.append(f"</{tag}>")


def write_members(node: Node, value: Mapping[str, Any], out: list[str], strict: bool) -> None:
    """Append a structure's members, in the model's order; nulls and (unless strict) strangers skipped."""
    if strict:
        unknown = value.keys() - node.by_name.keys()
        if unknown:
            raise UnknownMemberError(f"{node.name} has no member(s) {sorted(unknown)}")
        check_union(node, value)
    for field in node.fields:
        item = value.get(field.name)
        if item is not None:
            member = field.node
            _WRITERS[member.kind](member, field.wire, item, out, strict)


_WRITERS: dict[Kind, Callable[[Node, str, Any, list[str], bool], None]] = {
    **{kind: _write_scalar for kind in Kind}, Kind.STRUCTURE: _write_structure, Kind.LIST: _write_list,
    Kind.MAP: _write_map,
}
