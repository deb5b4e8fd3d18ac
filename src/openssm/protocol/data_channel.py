"""Session Manager data-channel payloads (DESIGN §4): the client's open frame, stream messages,
acknowledgements, the handshake and channel_closed.

JSON is written compactly with the field order of AWS's Go structs, as the session-manager-plugin writes it
(golden: tests/golden/captures/*.json); readers accept any spacing and order.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from openssm.protocol.agent_message import AgentMessage, AgentMessageError, Flags, PayloadType, json_payload

SCHEMA_VERSION = "1.0"


class MessageType(StrEnum):
    INPUT = "input_stream_data"
    OUTPUT = "output_stream_data"
    ACKNOWLEDGE = "acknowledge"
    CHANNEL_CLOSED = "channel_closed"
    START_PUBLICATION = "start_publication"
    PAUSE_PUBLICATION = "pause_publication"
    AGENT_SESSION_STATE = "agent_session_state"


class SessionType(StrEnum):
    STANDARD_STREAM = "Standard_Stream"
    PORT = "Port"
    INTERACTIVE_COMMANDS = "InteractiveCommands"
    NON_INTERACTIVE_COMMANDS = "NonInteractiveCommands"


class FlagValue(IntEnum):
    """The uint32 carried by a PayloadType.FLAG message."""

    DISCONNECT_TO_PORT = 1
    TERMINATE_SESSION = 2
    CONNECT_TO_PORT_ERROR = 3


def _compact(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# -- the client's first (text) frame ----------------------------------------------------------------
@dataclass(frozen=True)
class OpenDataChannel:
    token: str
    client_id: str
    client_version: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def encode(self) -> str:
        return _compact({"MessageSchemaVersion": SCHEMA_VERSION, "RequestId": self.request_id,
                         "TokenValue": self.token, "ClientId": self.client_id,
                         "ClientVersion": self.client_version}).decode()

    @classmethod
    def decode(cls, text: str) -> OpenDataChannel:
        value = json_payload(text.encode(), "open data channel")
        token = value.get("TokenValue")
        if not isinstance(token, str) or not token:
            raise AgentMessageError("open data channel frame without a TokenValue")
        return cls(token, str(value.get("ClientId") or ""), str(value.get("ClientVersion") or ""),
                   str(value.get("RequestId") or ""))


# -- stream messages and their acknowledgements -----------------------------------------------------
def stream_message(kind: MessageType, sequence: int, payload_type: PayloadType, payload: bytes, now_ms: int,
                   *, flags: int = Flags.NONE, message_id: uuid.UUID | None = None) -> AgentMessage:
    """An input/output stream message; the first message of a stream carries SYN, as AWS's agent sends it."""
    return AgentMessage(kind.value, sequence, flags, message_id or uuid.uuid4(), payload_type, payload, now_ms)


@dataclass(frozen=True)
class Acknowledgement:
    message_type: str
    message_id: str
    sequence_number: int
    is_sequential: bool = True

    def message(self, now_ms: int, message_id: uuid.UUID | None = None) -> AgentMessage:
        payload = _compact({"AcknowledgedMessageType": self.message_type,
                            "AcknowledgedMessageId": self.message_id,
                            "AcknowledgedMessageSequenceNumber": self.sequence_number,
                            "IsSequentialMessage": self.is_sequential})
        return AgentMessage(MessageType.ACKNOWLEDGE.value, 0, Flags.SYN | Flags.FIN, message_id or uuid.uuid4(),
                            PayloadType.UNDEFINED, payload, now_ms)

    @classmethod
    def of(cls, acknowledged: AgentMessage) -> Acknowledgement:
        return cls(acknowledged.message_type, str(acknowledged.message_id), acknowledged.sequence_number)

    @classmethod
    def decode(cls, message: AgentMessage) -> Acknowledgement:
        value = json_payload(message.payload, "acknowledge")
        try:
            return cls(str(value["AcknowledgedMessageType"]), str(value["AcknowledgedMessageId"]),
                       int(value["AcknowledgedMessageSequenceNumber"]), bool(value.get("IsSequentialMessage", True)))
        except (KeyError, TypeError, ValueError) as err:
            raise AgentMessageError(f"acknowledge payload without {err}") from err


# -- handshake ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HandshakeRequest:
    agent_version: str
    session_type: SessionType
    properties: Mapping[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        return _compact({"AgentVersion": self.agent_version, "RequestedClientActions": [
            {"ActionType": "SessionType",
             "ActionParameters": {"SessionType": self.session_type.value, "Properties": dict(self.properties)}}]})

    @classmethod
    def decode(cls, payload: bytes) -> HandshakeRequest:
        value = json_payload(payload, "handshake request")
        for action in value.get("RequestedClientActions") or ():
            if isinstance(action, dict) and action.get("ActionType") == "SessionType":
                params = action.get("ActionParameters") or {}
                try:
                    kind = SessionType(str(params.get("SessionType")))
                except ValueError as err:
                    raise AgentMessageError(f"unknown session type {params.get('SessionType')!r}") from err
                return cls(str(value.get("AgentVersion") or ""), kind, params.get("Properties") or {})
        raise AgentMessageError("handshake request without a SessionType action")


@dataclass(frozen=True)
class HandshakeResponse:
    client_version: str
    action_status: int = 1  # 1 Success, 2 Failed, 3 Unsupported (AWS's ActionStatus)
    errors: tuple[str, ...] = ()

    def encode(self) -> bytes:
        return _compact({"ClientVersion": self.client_version, "ProcessedClientActions": [
            {"ActionType": "SessionType", "ActionStatus": self.action_status, "ActionResult": None, "Error": ""}],
            "Errors": list(self.errors) or None})

    @classmethod
    def decode(cls, payload: bytes) -> HandshakeResponse:
        value = json_payload(payload, "handshake response")
        actions = [a for a in value.get("ProcessedClientActions") or () if isinstance(a, dict)]
        status = int(actions[0].get("ActionStatus", 1)) if actions else 1
        return cls(str(value.get("ClientVersion") or ""), status, tuple(value.get("Errors") or ()))


@dataclass(frozen=True)
class HandshakeComplete:
    time_to_complete: dt.timedelta
    customer_message: str = ""

    def encode(self) -> bytes:
        # Go's time.Duration: nanoseconds.
        nanoseconds = int(self.time_to_complete / dt.timedelta(microseconds=1)) * 1000
        return _compact({"HandshakeTimeToComplete": nanoseconds, "CustomerMessage": self.customer_message})

    @classmethod
    def decode(cls, payload: bytes) -> HandshakeComplete:
        value = json_payload(payload, "handshake complete")
        nanoseconds = int(value.get("HandshakeTimeToComplete") or 0)
        return cls(dt.timedelta(microseconds=nanoseconds / 1000), str(value.get("CustomerMessage") or ""))


# -- terminal size and the end of a session ---------------------------------------------------------
def terminal_size(payload: bytes) -> tuple[int, int]:
    """(cols, rows) from a PayloadType.SIZE message."""
    value = json_payload(payload, "size")
    try:
        return int(value["cols"]), int(value["rows"])
    except (KeyError, TypeError, ValueError) as err:
        raise AgentMessageError(f"size payload without {err}") from err


@dataclass(frozen=True)
class ChannelClosed:
    session_id: str
    destination_id: str
    output: str = ""
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def message(self, now_ms: int) -> AgentMessage:
        payload = _compact({"MessageId": self.message_id,
                            "CreatedDate": self.created.strftime("%Y-%m-%dT%H:%M:%S.") +
                            f"{self.created.microsecond // 1000:03d}Z",
                            "DestinationId": self.destination_id, "SessionId": self.session_id,
                            "MessageType": MessageType.CHANNEL_CLOSED.value, "SchemaVersion": 1,
                            "Output": self.output})
        return AgentMessage(MessageType.CHANNEL_CLOSED.value, 0, Flags.SYN | Flags.FIN,
                            uuid.UUID(self.message_id), PayloadType.UNDEFINED, payload, now_ms)

    @classmethod
    def decode(cls, message: AgentMessage) -> ChannelClosed:
        value = json_payload(message.payload, "channel_closed")
        created = str(value.get("CreatedDate") or "")
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            when = dt.datetime.fromtimestamp(message.created_date / 1000, dt.UTC)
        return cls(str(value.get("SessionId") or ""), str(value.get("DestinationId") or ""),
                   str(value.get("Output") or ""), str(value.get("MessageId") or message.message_id), when)
