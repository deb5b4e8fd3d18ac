"""Ordered, acknowledged streams and smux framing, against the captured port-forwarding session."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openssm.protocol.agent_message import AgentMessage, PayloadType
from openssm.protocol.data_channel import MessageType, stream_message
from openssm.protocol.smux import Command, Frame, FrameReader, SmuxError, data_frames
from openssm.protocol.stream_window import MAX_RTO, MIN_RTO, IncomingStream, OutgoingStream

CAPTURES = Path(__file__).resolve().parents[1] / "golden" / "captures"


def message(sequence: int) -> AgentMessage:
    return stream_message(MessageType.OUTPUT, sequence, PayloadType.OUTPUT, str(sequence).encode(), 0)


def test_messages_are_delivered_in_order_whatever_order_they_arrive_in() -> None:
    incoming = IncomingStream()
    delivered = []
    for sequence in (2, 0, 3, 1, 4):
        receipt = incoming.receive(message(sequence))
        assert receipt.acknowledge
        delivered += [m.sequence_number for m in receipt.ready]
    assert delivered == [0, 1, 2, 3, 4]


@given(st.permutations(list(range(12))), st.lists(st.integers(0, 11), max_size=6))
def test_any_arrival_order_with_duplicates_delivers_each_message_once_in_order(
        order: list[int], duplicates: list[int]) -> None:
    incoming = IncomingStream()
    delivered = []
    for sequence in order + duplicates:
        delivered += [m.sequence_number for m in incoming.receive(message(sequence)).ready]
    assert delivered == list(range(12))


def test_a_duplicate_is_acknowledged_again_but_not_delivered_twice() -> None:
    incoming = IncomingStream()
    assert [m.sequence_number for m in incoming.receive(message(0)).ready] == [0]
    again = incoming.receive(message(0))
    assert again.ready == () and again.acknowledge


def test_an_early_message_beyond_the_buffer_is_not_acknowledged_so_that_it_is_resent() -> None:
    incoming = IncomingStream(max_buffered=1)
    assert incoming.receive(message(1)).acknowledge
    refused = incoming.receive(message(2))
    assert refused.ready == () and not refused.acknowledge


def test_unacknowledged_messages_are_resent_after_the_timeout_and_not_before() -> None:
    outgoing = OutgoingStream()
    first = message(outgoing.take_sequence())
    outgoing.sent(first, now=10.0)
    assert outgoing.due(10.0 + MIN_RTO / 2) == []
    assert outgoing.due(10.0 + MIN_RTO + 0.001) == [first]
    assert outgoing.due(10.0 + MIN_RTO + 0.01) == []  # just resent
    assert outgoing.acknowledged(first.sequence_number, now=11.0)
    assert outgoing.outstanding == 0 and not outgoing.acknowledged(first.sequence_number, now=11.1)


def test_the_timeout_follows_measured_round_trips_within_its_bounds() -> None:
    outgoing = OutgoingStream()
    now = 0.0
    for _ in range(20):
        m = message(outgoing.take_sequence())
        outgoing.sent(m, now)
        now += 1.5
        outgoing.acknowledged(m.sequence_number, now)
    assert outgoing.rto == MAX_RTO
    for _ in range(50):
        m = message(outgoing.take_sequence())
        outgoing.sent(m, now)
        now += 0.001
        outgoing.acknowledged(m.sequence_number, now)
    assert outgoing.rto == MIN_RTO


def test_the_captured_port_forwarding_bytes_are_smux_syn_psh_and_fin_on_stream_3() -> None:
    frames = json.loads((CAPTURES / "port-mux.json").read_text())["frames"]
    payloads = [AgentMessage.decode(bytes.fromhex(f["hex"])) for f in frames if f.get("websocket") == "binary"]
    client = FrameReader()
    sent = [frame for m in payloads if m.message_type == "input_stream_data" and m.payload_type == PayloadType.OUTPUT
            for frame in client.feed(m.payload)]
    assert sent == [Frame(Command.SYN, 3), Frame(Command.PSH, 3, b"ping"), Frame(Command.FIN, 3)]
    assert Frame(Command.SYN, 3).encode() == bytes.fromhex("0100000003000000")
    assert Frame(Command.PSH, 3, b"ping").encode() == bytes.fromhex("010204000300000070696e67")


def test_a_frame_split_across_messages_is_reassembled() -> None:
    wire = Frame(Command.PSH, 7, b"x" * 3000).encode() + Frame(Command.FIN, 7).encode()
    reader = FrameReader()
    got = []
    for start in range(0, len(wire), 1024):
        got += reader.feed(wire[start:start + 1024])
    assert got == [Frame(Command.PSH, 7, b"x" * 3000), Frame(Command.FIN, 7)] and reader.pending == 0


def test_large_data_is_cut_into_frames_no_bigger_than_asked() -> None:
    frames = list(data_frames(5, b"a" * 2500, chunk=1000))
    assert [len(f.payload) for f in frames] == [1000, 1000, 500]
    assert b"".join(f.payload for f in frames) == b"a" * 2500


@pytest.mark.parametrize("raw", [bytes.fromhex("0200000003000000"), bytes.fromhex("0109000003000000")])
def test_a_wrong_version_or_command_is_refused(raw: bytes) -> None:
    with pytest.raises(SmuxError):
        FrameReader().feed(raw)


def test_an_oversized_payload_cannot_be_framed() -> None:
    with pytest.raises(SmuxError):
        Frame(Command.PSH, 1, b"x" * 70_000).encode()


def test_stream_messages_carry_fresh_ids_unless_given_one() -> None:
    a, b = message(0), message(0)
    fixed = uuid.uuid4()
    assert a.message_id != b.message_id
    assert stream_message(MessageType.INPUT, 0, PayloadType.OUTPUT, b"", 0, message_id=fixed).message_id == fixed
