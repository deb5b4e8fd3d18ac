"""The agent's end of a Session Manager data channel's opening and bookkeeping (DESIGN §4), as AWS's agent
writes them (agent/session/service/api.go, agent/session/contracts): the body of `POST
/v1/data-channel/<sessionId>` (CreateDataChannelInput), the first text frame on the WebSocket
(OpenDataChannelInput), `agent_session_state`, and the uint32 of a Flag message.

Pure: builds and reads bytes and text, no I/O.
"""

from __future__ import annotations

import json
import re
import struct
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from html import unescape

from openssm.protocol.agent_message import AgentMessage, AgentMessageError, Flags, PayloadType, json_payload
from openssm.protocol.data_channel import SCHEMA_VERSION, FlagValue, MessageType

_TOKEN = re.compile(r"<TokenValue>([^<]+)</TokenValue>")
_FLAG = struct.Struct(">I")


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def create_data_channel_body(client_id: str, request_id: str | None = None) -> bytes:
    """CreateDataChannelInput: what the agent POSTs (SigV4, ssmmessages) for the channel's token."""
    return _compact({"MessageSchemaVersion": SCHEMA_VERSION, "RequestId": request_id or str(uuid.uuid4()),
                     "ClientId": client_id}).encode()


def token_of(create_answer: str) -> str:
    """The TokenValue of the service's HTTP 201 XML answer to that POST."""
    found = _TOKEN.search(create_answer)
    if not found:
        raise AgentMessageError("the data channel was created without a token")
    return unescape(found.group(1))


@dataclass(frozen=True)
class OpenAgentDataChannel:
    """The agent's first (text) frame on the data channel; the client's is data_channel.OpenDataChannel."""

    token: str
    instance_id: str
    client_id: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def encode(self) -> str:
        return _compact({"MessageSchemaVersion": SCHEMA_VERSION, "RequestId": self.request_id,
                         "TokenValue": self.token, "ClientInstanceId": self.instance_id,
                         "ClientId": self.client_id})

    @classmethod
    def decode(cls, text: str) -> OpenAgentDataChannel:
        value = json_payload(text.encode(), "open agent data channel")
        token, instance_id = value.get("TokenValue"), value.get("ClientInstanceId")
        if not isinstance(token, str) or not token or not isinstance(instance_id, str) or not instance_id:
            raise AgentMessageError("open agent data channel frame without a TokenValue and a ClientInstanceId")
        return cls(token, instance_id, str(value.get("ClientId") or ""), str(value.get("RequestId") or ""))


class SessionState(StrEnum):
    CONNECTED = "Connected"  # sent once the data channel is open
    TERMINATING = "Terminating"  # sent when the session ends on the node


@dataclass(frozen=True)
class AgentSessionState:
    """agent_session_state: the agent tells the service where its session stands (not a stream message:
    sequence 0, flags SYN|FIN, never acknowledged)."""

    session_id: str
    state: SessionState

    def message(self, now_ms: int, message_id: uuid.UUID | None = None) -> AgentMessage:
        payload = _compact({"SchemaVersion": 1, "SessionState": self.state.value, "SessionId": self.session_id})
        return AgentMessage(MessageType.AGENT_SESSION_STATE.value, 0, Flags.SYN | Flags.FIN,
                            message_id or uuid.uuid4(), PayloadType.UNDEFINED, payload.encode(), now_ms)

    @classmethod
    def decode(cls, message: AgentMessage) -> AgentSessionState:
        value = json_payload(message.payload, MessageType.AGENT_SESSION_STATE.value)
        try:
            return cls(str(value.get("SessionId") or ""), SessionState(str(value.get("SessionState"))))
        except ValueError as err:
            raise AgentMessageError(f"unknown session state {value.get('SessionState')!r}") from err


def flag_payload(flag: FlagValue) -> bytes:
    """A PayloadType.FLAG message's payload: the flag as a big-endian uint32."""
    return _FLAG.pack(flag)


def read_flag(payload: bytes) -> FlagValue | None:
    """The flag a PayloadType.FLAG payload carries; None for one too short or unknown (ignored, as AWS's)."""
    if len(payload) < _FLAG.size:
        return None
    try:
        return FlagValue(_FLAG.unpack_from(payload)[0])
    except ValueError:
        return None
