"""One end of a Session Manager data channel, sans I/O: the caller feeds it frames and the time, and sends
the frames it returns. The session-manager-plugin shim (client end) and the agent (agent end) drive the
same engine over their own WebSockets, so both keep AWS's rules identically (DESIGN §4): every stream message
acknowledged, delivered in order once, resent until acknowledged.

AWS's programs read terminals and sockets 1,024 bytes at a time, so their messages carry at most that; they read
messages of any size. OpenSSM's ends send a port's bytes in messages of up to 64 KiB (docs/architecture.md: a
Python hop per 1 KiB message cannot carry a tunnel at disk or network speed); shells keep AWS's 1,024.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from openssm.protocol.agent_message import AgentMessage, AgentMessageError, Flags, PayloadType
from openssm.protocol.data_channel import (
    Acknowledgement,
    ChannelClosed,
    HandshakeComplete,
    HandshakeRequest,
    HandshakeResponse,
    MessageType,
    stream_message,
)
from openssm.protocol.stream_window import IncomingStream, OutgoingStream

MAX_CHUNK = 64 * 1024  # the largest payload OpenSSM puts in one message
TERMINAL_CHUNK = 1024  # AWS's StreamDataPayloadSize: what a terminal's reads are cut to


class Role(StrEnum):
    CLIENT = "client"  # sends input_stream_data, receives output_stream_data
    AGENT = "agent"


@dataclass(frozen=True)
class StreamData:
    """In-order bytes from the other end (shell output, keystrokes, a forwarded connection's bytes…)."""

    payload_type: PayloadType
    payload: bytes


@dataclass(frozen=True)
class HandshakeRequested:
    request: HandshakeRequest


@dataclass(frozen=True)
class HandshakeResponded:
    response: HandshakeResponse


@dataclass(frozen=True)
class HandshakeCompleted:
    complete: HandshakeComplete


@dataclass(frozen=True)
class Closed:
    closed: ChannelClosed


Event = StreamData | HandshakeRequested | HandshakeResponded | HandshakeCompleted | Closed

class DataChannelEndpoint:
    def __init__(self, role: Role) -> None:
        self.role = role
        self._send_type = MessageType.INPUT if role is Role.CLIENT else MessageType.OUTPUT
        self._receive_type = MessageType.OUTPUT if role is Role.CLIENT else MessageType.INPUT
        self._outgoing = OutgoingStream()
        self._incoming = IncomingStream()

    # -- sending ------------------------------------------------------------------------------------------
    def send(self, payload_type: PayloadType, payload: bytes, now: float) -> list[bytes]:
        """Frames carrying `payload`, numbered and kept until acknowledged; the first message carries SYN."""
        chunks = [payload[i:i + MAX_CHUNK] for i in range(0, len(payload), MAX_CHUNK)] or [b""]
        frames = []
        for chunk in chunks:
            sequence = self._outgoing.take_sequence()
            message = stream_message(self._send_type, sequence, payload_type, chunk, int(now * 1000),
                                     flags=Flags.SYN if sequence == 0 and self.role is Role.AGENT else Flags.NONE)
            self._outgoing.sent(message, now)
            frames.append(message.encode())
        return frames

    def send_handshake(self, message: HandshakeRequest | HandshakeResponse | HandshakeComplete,
                       now: float) -> list[bytes]:
        kind = {HandshakeRequest: PayloadType.HANDSHAKE_REQUEST, HandshakeResponse: PayloadType.HANDSHAKE_RESPONSE,
                HandshakeComplete: PayloadType.HANDSHAKE_COMPLETE}[type(message)]
        return self.send(kind, message.encode(), now)

    def close(self, session_id: str, destination_id: str, output: str, now: float) -> bytes:
        return ChannelClosed(session_id, destination_id, output).message(int(now * 1000)).encode()

    def due(self, now: float) -> list[bytes]:
        """Messages to send again: unacknowledged past the retransmission timeout."""
        return [m.encode() for m in self._outgoing.due(now)]

    @property
    def unacknowledged(self) -> int:
        return self._outgoing.outstanding

    # -- receiving ----------------------------------------------------------------------------------------
    def receive(self, frame: bytes, now: float) -> tuple[list[Event], list[bytes]]:
        """(events in order, frames to send back: acknowledgements). Frames of other types are ignored, as
        AWS's programs ignore what they do not know."""
        message = AgentMessage.decode(frame)
        if message.message_type == MessageType.ACKNOWLEDGE:
            ack = Acknowledgement.decode(message)
            self._outgoing.acknowledged(ack.sequence_number, now)
            return [], []
        if message.message_type == MessageType.CHANNEL_CLOSED:
            return [Closed(ChannelClosed.decode(message))], []
        if message.message_type != self._receive_type:
            return [], []
        receipt = self._incoming.receive(message)
        replies = [Acknowledgement.of(message).message(int(now * 1000), uuid.uuid4()).encode()] \
            if receipt.acknowledge else []
        return [_event(m) for m in receipt.ready], replies


def _event(message: AgentMessage) -> Event:
    kind = message.payload_type
    if kind == PayloadType.HANDSHAKE_REQUEST:
        return HandshakeRequested(HandshakeRequest.decode(message.payload))
    if kind == PayloadType.HANDSHAKE_RESPONSE:
        return HandshakeResponded(HandshakeResponse.decode(message.payload))
    if kind == PayloadType.HANDSHAKE_COMPLETE:
        return HandshakeCompleted(HandshakeComplete.decode(message.payload))
    try:
        return StreamData(PayloadType(kind), message.payload)
    except ValueError as err:
        raise AgentMessageError(f"unknown payload type {kind}") from err


def stream_bytes(events: Sequence[Event]) -> bytes:
    """The OUTPUT bytes among `events`, joined: what a terminal or a socket gets."""
    return b"".join(e.payload for e in events if isinstance(e, StreamData) and e.payload_type == PayloadType.OUTPUT)

