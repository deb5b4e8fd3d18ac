"""Both ends of the data channel replayed against the captured session of AWS's plugin: the client end
answers the stand-in agent's frames as the plugin did, the agent end reads the plugin's frames."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from openssm.protocol.agent_message import AgentMessage, PayloadType
from openssm.protocol.data_channel import Acknowledgement, HandshakeResponse, MessageType, SessionType, stream_message
from openssm.protocol.data_channel_endpoint import (
    MAX_CHUNK,
    Closed,
    DataChannelEndpoint,
    HandshakeCompleted,
    HandshakeRequested,
    HandshakeResponded,
    Role,
    StreamData,
    stream_bytes,
)

CAPTURES = Path(__file__).resolve().parents[1] / "golden" / "captures"


def frames(name: str, direction: str) -> list[bytes]:
    data: list[dict[str, Any]] = json.loads((CAPTURES / f"{name}.json").read_text())["frames"]
    return [bytes.fromhex(f["hex"]) for f in data if f["direction"] == direction and f.get("websocket") == "binary"]


def test_the_client_end_acknowledges_each_agent_message_exactly_as_the_plugin_did() -> None:
    client = DataChannelEndpoint(Role.CLIENT)
    plugin_acks = [Acknowledgement.decode(m) for m in map(AgentMessage.decode, frames("shell", "client->agent"))
                   if m.message_type == "acknowledge"]
    ours, events = [], []
    for frame in frames("shell", "agent->client"):
        got, replies = client.receive(frame, now=0.0)
        events += got
        ours += [Acknowledgement.decode(AgentMessage.decode(r)) for r in replies]
    assert ours == plugin_acks
    assert isinstance(events[0], HandshakeRequested)
    assert events[0].request.session_type is SessionType.STANDARD_STREAM
    assert isinstance(events[1], HandshakeCompleted)
    assert stream_bytes(events) == b"$ echo hi\n"
    assert isinstance(events[-1], Closed) and events[-1].closed.session_id == "capture-0123456789"


def test_the_agent_end_reads_the_plugins_handshake_size_and_keystrokes() -> None:
    agent = DataChannelEndpoint(Role.AGENT)
    events = []
    for frame in frames("shell", "client->agent"):
        events += agent.receive(frame, now=0.0)[0]
    assert isinstance(events[0], HandshakeResponded) and events[0].response == HandshakeResponse("1.2.0.0")
    assert StreamData(PayloadType.SIZE, b'{"cols":120,"rows":40}') in events
    assert stream_bytes(events) == b"echo hi\n\x03"


def test_sent_data_is_cut_into_64_kib_messages_and_kept_until_acknowledged() -> None:
    agent, client = DataChannelEndpoint(Role.AGENT), DataChannelEndpoint(Role.CLIENT)
    size = 2 * MAX_CHUNK + 452
    sent = agent.send(PayloadType.OUTPUT, b"x" * size, now=0.0)
    assert [len(AgentMessage.decode(f).payload) for f in sent] == [65536, 65536, 452]
    assert AgentMessage.decode(sent[0]).flags == 1 and agent.unacknowledged == 3
    received = []
    for frame in reversed(sent):  # out of order
        events, acks = client.receive(frame, now=0.01)
        received += events
        for ack in acks:
            agent.receive(ack, now=0.02)
    assert stream_bytes(received) == b"x" * size and agent.unacknowledged == 0
    assert agent.due(now=10.0) == []


def test_a_lost_message_is_resent_and_its_duplicate_delivered_once() -> None:
    agent, client = DataChannelEndpoint(Role.AGENT), DataChannelEndpoint(Role.CLIENT)
    (frame,) = agent.send(PayloadType.OUTPUT, b"once", now=0.0)
    events, acks = client.receive(frame, now=0.1)  # the acknowledgement is lost
    (again,) = agent.due(now=1.5)
    more, acks_again = client.receive(again, now=1.6)
    assert stream_bytes(events + more) == b"once" and len(acks_again) == 1
    agent.receive(acks_again[0], now=1.7)
    assert agent.unacknowledged == 0


def test_messages_meant_for_the_other_direction_are_ignored() -> None:
    client = DataChannelEndpoint(Role.CLIENT)
    stray = stream_message(MessageType.INPUT, 0, PayloadType.OUTPUT, b"mine", 0, message_id=uuid.uuid4()).encode()
    assert client.receive(stray, now=0.0) == ([], [])
