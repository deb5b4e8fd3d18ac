"""The agent's data-channel opening and bookkeeping messages (protocol/agent_data_channel.py), in the field
order of AWS's agent's Go structs, and the small pure pieces of the agent's sessions."""

from __future__ import annotations

import json
import uuid

import pytest

from openssm.agent.sessions.plugin import WholeCharacters
from openssm.agent.sessions.processes import descendants
from openssm.agent.sessions.runner import version_at_least
from openssm.protocol import mgs
from openssm.protocol.agent_data_channel import (
    AgentSessionState,
    OpenAgentDataChannel,
    SessionState,
    create_data_channel_body,
    flag_payload,
    read_flag,
    token_of,
)
from openssm.protocol.agent_message import AgentMessage, AgentMessageError
from openssm.protocol.data_channel import FlagValue


def test_the_create_body_is_awss_create_data_channel_input() -> None:
    body = json.loads(create_data_channel_body("client-1", "request-1"))
    assert list(body.items()) == [("MessageSchemaVersion", "1.0"), ("RequestId", "request-1"),
                                  ("ClientId", "client-1")]
    assert uuid.UUID(json.loads(create_data_channel_body("client-1"))["RequestId"])


def test_the_token_is_read_from_the_services_answer() -> None:
    assert token_of(mgs.create_channel_response("a&b<c")) == "a&b<c"
    with pytest.raises(AgentMessageError):
        token_of("<CreateDataChannelResponse/>")


def test_the_open_frame_is_awss_open_data_channel_input_and_reads_back() -> None:
    frame = OpenAgentDataChannel("token", "mi-0123456789abcdef0", "client-1", "request-1")
    text = frame.encode()
    assert text == ('{"MessageSchemaVersion":"1.0","RequestId":"request-1","TokenValue":"token",'
                    '"ClientInstanceId":"mi-0123456789abcdef0","ClientId":"client-1"}')
    assert OpenAgentDataChannel.decode(text) == frame
    with pytest.raises(AgentMessageError):
        OpenAgentDataChannel.decode('{"TokenValue":"token"}')  # a client's frame names no instance


def test_agent_session_state_is_a_control_message_on_the_data_channel() -> None:
    message = AgentMessage.decode(AgentSessionState("s-1", SessionState.CONNECTED).message(1, uuid.uuid4()).encode())
    assert (message.message_type, message.sequence_number, message.flags) == ("agent_session_state", 0, 3)
    assert json.loads(message.payload) == {"SchemaVersion": 1, "SessionState": "Connected", "SessionId": "s-1"}
    assert AgentSessionState.decode(message) == AgentSessionState("s-1", SessionState.CONNECTED)


def test_flags_are_big_endian_uint32s_and_unknown_ones_are_ignored() -> None:
    assert flag_payload(FlagValue.CONNECT_TO_PORT_ERROR) == b"\x00\x00\x00\x03"
    assert read_flag(b"\x00\x00\x00\x02") is FlagValue.TERMINATE_SESSION
    assert read_flag(b"\x00\x00\x00\x09") is None and read_flag(b"\x01") is None


def test_output_is_cut_only_between_characters() -> None:
    text = "aé€😀b".encode()
    chunks = WholeCharacters()
    for cut in range(len(text) + 1):
        head = chunks.take(text[:cut])
        tail = chunks.take(text[cut:])
        head.decode(), tail.decode()
        assert head + tail + chunks.rest() == text
    assert chunks.take(b"\xff\xfe") == b"\xff\xfe"  # bytes that are no UTF-8 at all pass unchanged


def test_descendants_are_the_group_the_session_and_their_children() -> None:
    table = {100: (1, 100, 100), 101: (100, 101, 100), 102: (101, 102, 102), 103: (102, 103, 103),
             200: (1, 200, 200), 201: (200, 201, 200)}
    assert descendants(100, table) == {100, 101, 102, 103}


def test_client_versions_compare_numerically() -> None:
    assert version_at_least("1.2.804.0", "1.1.70")
    assert not version_at_least("1.1.61.0", "1.1.70")
    assert version_at_least("1.2.331.1", "1.2.331.0.1") and not version_at_least("1.2.331.0", "1.2.331.0.1")
