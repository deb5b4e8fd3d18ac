"""Data-channel payloads against the captured traffic of AWS's session-manager-plugin: what the plugin sent
is rebuilt byte for byte; what the stand-in agent sent decodes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from openssm.protocol.agent_message import AgentMessage, AgentMessageError, Flags, PayloadType
from openssm.protocol.data_channel import (
    Acknowledgement,
    ChannelClosed,
    HandshakeComplete,
    HandshakeRequest,
    HandshakeResponse,
    MessageType,
    OpenDataChannel,
    SessionType,
    stream_message,
    terminal_size,
)

CAPTURES = Path(__file__).resolve().parents[1] / "golden" / "captures"


def frames(name: str) -> list[dict[str, Any]]:
    return list(json.loads((CAPTURES / f"{name}.json").read_text())["frames"])


def binary(name: str, direction: str) -> list[AgentMessage]:
    return [AgentMessage.decode(bytes.fromhex(f["hex"])) for f in frames(name)
            if f["direction"] == direction and f.get("websocket") == "binary"]


@pytest.mark.parametrize("name", ["shell", "ssh-stream", "port-mux"])
def test_every_acknowledgement_of_the_plugin_is_rebuilt_byte_for_byte(name: str) -> None:
    acks = [m for m in binary(name, "client->agent") if m.message_type == "acknowledge"]
    assert acks
    for sent in acks:
        ack = Acknowledgement.decode(sent)
        assert ack.message(sent.created_date, sent.message_id).encode() == sent.encode()


@pytest.mark.parametrize("name", ["shell", "ssh-stream", "port-mux"])
def test_the_plugin_acknowledges_each_output_message_by_its_id_and_sequence(name: str) -> None:
    outputs = {str(m.message_id): m for m in binary(name, "agent->client") if m.message_type == "output_stream_data"}
    acks = [Acknowledgement.decode(m) for m in binary(name, "client->agent") if m.message_type == "acknowledge"]
    assert {a.message_id for a in acks} == set(outputs)
    for ack in acks:
        assert ack == Acknowledgement.of(outputs[ack.message_id])


def test_the_handshake_response_is_rebuilt_byte_for_byte() -> None:
    sent = next(m for m in binary("shell", "client->agent") if m.payload_type == PayloadType.HANDSHAKE_RESPONSE)
    response = HandshakeResponse.decode(sent.payload)
    assert response == HandshakeResponse("1.2.0.0", 1, ())
    rebuilt = stream_message(MessageType.INPUT, sent.sequence_number, PayloadType.HANDSHAKE_RESPONSE,
                             response.encode(), sent.created_date, flags=sent.flags, message_id=sent.message_id)
    assert rebuilt.encode() == sent.encode()
    assert sent.sequence_number == 0 and sent.flags == Flags.NONE


def test_the_open_frame_is_rebuilt_from_its_fields() -> None:
    text = frames("shell")[0]["text"]
    opened = OpenDataChannel.decode(text)
    assert opened.token == "capture-token" and opened.client_version == "1.2.0.0"
    assert opened.encode() == text


def test_handshake_requests_name_the_session_type_and_its_properties() -> None:
    shell = next(m for m in binary("shell", "agent->client") if m.payload_type == PayloadType.HANDSHAKE_REQUEST)
    port = next(m for m in binary("port-mux", "agent->client") if m.payload_type == PayloadType.HANDSHAKE_REQUEST)
    assert HandshakeRequest.decode(shell.payload).session_type is SessionType.STANDARD_STREAM
    request = HandshakeRequest.decode(port.payload)
    assert request.session_type is SessionType.PORT and request.properties["type"] == "LocalPortForwarding"
    assert HandshakeRequest.decode(request.encode()) == request
    assert shell.flags == Flags.SYN and shell.sequence_number == 0


def test_handshake_complete_carries_go_nanoseconds_and_the_customer_message() -> None:
    sent = next(m for m in binary("shell", "agent->client") if m.payload_type == PayloadType.HANDSHAKE_COMPLETE)
    complete = HandshakeComplete.decode(sent.payload)
    assert complete == HandshakeComplete(dt.timedelta(milliseconds=1), "")
    assert json.loads(complete.encode()) == {"HandshakeTimeToComplete": 1000000, "CustomerMessage": ""}


def test_terminal_size_and_typed_input_as_the_plugin_sends_them() -> None:
    inputs = [m for m in binary("shell", "client->agent") if m.message_type == "input_stream_data"]
    assert [m.sequence_number for m in inputs] == list(range(len(inputs)))
    size = next(m for m in inputs if m.payload_type == PayloadType.SIZE)
    assert terminal_size(size.payload) == (120, 40)
    assert [m.payload for m in inputs if m.payload_type == PayloadType.OUTPUT] == [b"echo hi\n", b"\x03"]


def test_channel_closed_round_trips_and_decodes_the_captured_one() -> None:
    sent = next(m for m in binary("shell", "agent->client") if m.message_type == "channel_closed")
    closed = ChannelClosed.decode(sent)
    assert closed.session_id == "capture-0123456789" and closed.destination_id == "mi-0123456789abcdef0"
    mine = ChannelClosed("s-1", "mi-0123456789abcdef0", "bye", str(uuid.uuid4()),
                         dt.datetime(2026, 11, 22, 1, 2, 3, 456000, tzinfo=dt.UTC))
    message = mine.message(1)
    assert message.flags == Flags.SYN | Flags.FIN
    assert json.loads(message.payload)["CreatedDate"] == "2026-11-22T01:02:03.456Z"
    assert ChannelClosed.decode(AgentMessage.decode(message.encode())) == mine


@pytest.mark.parametrize("payload", [b"not json", b"[1]", b'{"AcknowledgedMessageType": "x"}'])
def test_a_malformed_acknowledgement_is_refused(payload: bytes) -> None:
    message = AgentMessage("acknowledge", 0, 3, uuid.uuid4(), 0, payload, 0)
    with pytest.raises(AgentMessageError):
        Acknowledgement.decode(message)


def test_an_unknown_session_type_or_a_missing_token_is_refused() -> None:
    bad = json.dumps({"AgentVersion": "1", "RequestedClientActions": [
        {"ActionType": "SessionType", "ActionParameters": {"SessionType": "Telnet"}}]}).encode()
    with pytest.raises(AgentMessageError, match="unknown session type"):
        HandshakeRequest.decode(bad)
    with pytest.raises(AgentMessageError, match="TokenValue"):
        OpenDataChannel.decode('{"MessageSchemaVersion": "1.0"}')
