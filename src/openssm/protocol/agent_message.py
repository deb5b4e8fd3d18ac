"""AgentMessage: the binary frame of Session Manager's control and data channels (DESIGN §4).

Big-endian header of 116 bytes after the 4-byte length field; the message id's two 8-byte halves are
swapped on the wire (bytes 8..15 first), as AWS's agent and plugin write them.
"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Any

HEADER_LENGTH = 116
_TYPE_FIELD = 32
_HEADER = struct.Struct(">I32sIqqQ16s32sII")  # through PayloadLength: 4 + 116 bytes


class PayloadType(IntEnum):
    UNDEFINED = 0
    OUTPUT = 1
    ERROR = 2
    SIZE = 3
    PARAMETER = 4
    HANDSHAKE_REQUEST = 5
    HANDSHAKE_RESPONSE = 6
    HANDSHAKE_COMPLETE = 7
    ENC_CHALLENGE_REQUEST = 8
    ENC_CHALLENGE_RESPONSE = 9
    FLAG = 10
    STDERR = 11
    EXIT_CODE = 12


class Flags(IntFlag):
    NONE = 0
    SYN = 1
    FIN = 2


class AgentMessageError(ValueError):
    """A frame that is not a well-formed AgentMessage."""


def _uuid_to_wire(value: uuid.UUID) -> bytes:
    raw = value.bytes
    return raw[8:] + raw[:8]


def _uuid_from_wire(raw: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=raw[8:] + raw[:8])


@dataclass(frozen=True)
class AgentMessage:
    message_type: str
    sequence_number: int
    flags: int
    message_id: uuid.UUID
    payload_type: int
    payload: bytes
    created_date: int
    schema_version: int = 1

    def encode(self) -> bytes:
        kind = self.message_type.encode()
        if len(kind) > _TYPE_FIELD:
            raise AgentMessageError(f"message type longer than {_TYPE_FIELD} bytes: {self.message_type!r}")
        header = _HEADER.pack(HEADER_LENGTH, kind.ljust(_TYPE_FIELD, b" "), self.schema_version, self.created_date,
                              self.sequence_number, self.flags, _uuid_to_wire(self.message_id),
                              hashlib.sha256(self.payload).digest(), self.payload_type, len(self.payload))
        return header + self.payload

    @classmethod
    def decode(cls, data: bytes, *, check_digest: bool = True) -> AgentMessage:
        if len(data) < _HEADER.size:
            raise AgentMessageError(f"frame of {len(data)} bytes is shorter than an AgentMessage header")
        (header_length, kind, schema, created, sequence, flags, message_id, digest, payload_type,
         payload_length) = _HEADER.unpack_from(data)
        if header_length != HEADER_LENGTH:
            raise AgentMessageError(f"header length {header_length}, expected {HEADER_LENGTH}")
        payload = data[_HEADER.size:]
        if len(payload) != payload_length:
            raise AgentMessageError(f"payload length {payload_length} but {len(payload)} bytes follow")
        if check_digest and hashlib.sha256(payload).digest() != digest:
            raise AgentMessageError("payload digest does not match")
        message_type = kind.decode("utf-8", "replace").rstrip(" \x00")
        return cls(message_type, sequence, flags, _uuid_from_wire(message_id), payload_type, payload, created,
                   schema)


@dataclass(frozen=True)
class Glance:
    """What a relay needs of a frame without copying or hashing its payload."""

    message_type: str
    sequence_number: int
    payload_type: int
    payload_length: int


def glance(data: bytes) -> Glance:
    """The header of an AgentMessage frame; its payload is neither copied nor checked."""
    if len(data) < _HEADER.size:
        raise AgentMessageError(f"frame of {len(data)} bytes is shorter than an AgentMessage header")
    (header_length, kind, _schema, _created, sequence, _flags, _message_id, _digest, payload_type,
     payload_length) = _HEADER.unpack_from(data)
    if header_length != HEADER_LENGTH or len(data) - _HEADER.size != payload_length:
        raise AgentMessageError("not an AgentMessage frame")
    return Glance(kind.decode("utf-8", "replace").rstrip(" \x00"), sequence, payload_type, payload_length)


def json_payload(payload: bytes, what: str) -> dict[str, Any]:
    """A payload that must be a JSON object (control and data channel messages carry JSON)."""
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AgentMessageError(f"{what} payload is not JSON: {err}") from err
    if not isinstance(value, dict):
        raise AgentMessageError(f"{what} payload is not a JSON object")
    return value
