"""The sans-I/O smux v1 session: both ends replayed against the captured LocalPortForwarding session of AWS's
plugin and agent, and xtaci's rules for stream ids, closing and frames for streams that are not open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openssm.protocol.agent_message import AgentMessage, PayloadType
from openssm.protocol.smux import Command, Frame, FrameReader, SmuxError
from openssm.protocol.smux_mux import (
    ClosedStreamError,
    SmuxSession,
    StreamClosed,
    StreamData,
    StreamOpened,
)

CAPTURE = Path(__file__).resolve().parents[1] / "golden" / "captures" / "port-mux.json"


def smux_payloads(direction: str) -> list[bytes]:
    """The smux bytes of each stream message in one direction, in the order they were sent."""
    frames: list[dict[str, Any]] = json.loads(CAPTURE.read_text())["frames"]
    messages = [AgentMessage.decode(bytes.fromhex(f["hex"])) for f in frames
                if f["direction"] == direction and f["websocket"] == "binary"]
    return [m.payload for m in messages
            if m.message_type.endswith("_stream_data") and m.payload_type == PayloadType.OUTPUT]


def test_the_client_end_sends_and_reads_exactly_what_the_plugin_and_agent_exchanged() -> None:
    client = SmuxSession(client=True)
    sid, syn = client.open()
    ping = client.write(sid, b"ping")
    agent_sent = smux_payloads("agent->client")
    events = [e for payload in agent_sent for e in client.feed(payload)]
    fin = client.close(sid)
    assert sid == 3
    assert [syn, ping, fin] == smux_payloads("client->agent")
    assert events == [StreamData(3, b"pong"), StreamClosed(3)]
    assert client.stream_ids == frozenset()


def test_the_server_end_reads_the_plugins_frames_and_answers_as_the_agent_did() -> None:
    server = SmuxSession(client=False)
    syn, ping, client_fin = smux_payloads("client->agent")
    assert server.feed(syn + ping) == [StreamOpened(3), StreamData(3, b"ping")]
    answer = server.write(3, b"pong") + server.close(3)
    assert answer == b"".join(smux_payloads("agent->client"))
    assert server.feed(client_fin) == []  # the FIN answering ours: the stream is already forgotten


def test_clients_open_odd_ids_and_servers_even_ones_as_xtaci() -> None:
    client, server = SmuxSession(client=True), SmuxSession(client=False)
    assert [client.open()[0] for _ in range(3)] == [3, 5, 7]
    assert [server.open()[0] for _ in range(3)] == [2, 4, 6]
    assert client.stream_ids == frozenset({3, 5, 7})


def test_frames_straddling_feeds_are_reassembled() -> None:
    server = SmuxSession(client=False)
    client = SmuxSession(client=True)
    sid, syn = client.open()
    wire = syn + client.write(sid, b"x" * 3000) + client.close(sid)
    events = [e for i in range(0, len(wire), 7) for e in server.feed(wire[i:i + 7])]
    assert events == [StreamOpened(sid), StreamData(sid, b"x" * 3000), StreamClosed(sid)]


def test_writes_are_cut_into_frames_of_at_most_65535_bytes() -> None:
    client = SmuxSession(client=True)
    sid, _ = client.open()
    wire = client.write(sid, b"y" * 70000)
    frames = FrameReader().feed(wire)
    assert [len(f.payload) for f in frames] == [65535, 4465]
    assert all(f.command is Command.PSH and f.stream_id == sid for f in frames)
    assert client.write(sid, b"") == b""


def test_nops_duplicate_syns_and_frames_for_unknown_streams_change_nothing() -> None:
    server = SmuxSession(client=False)
    wire = b"".join(f.encode() for f in (
        Frame(Command.NOP, 0), Frame(Command.SYN, 3), Frame(Command.SYN, 3),
        Frame(Command.PSH, 9, b"lost"), Frame(Command.FIN, 9), Frame(Command.PSH, 3, b""),
        Frame(Command.PSH, 3, b"kept")))
    assert server.feed(wire) == [StreamOpened(3), StreamData(3, b"kept")]


def test_the_peers_fin_ends_reading_but_the_stream_stays_writable_until_closed_here() -> None:
    server = SmuxSession(client=False)
    server.feed(Frame(Command.SYN, 3).encode())
    events = server.feed(Frame(Command.FIN, 3).encode() + Frame(Command.PSH, 3, b"late").encode()
                         + Frame(Command.FIN, 3).encode())
    assert events == [StreamClosed(3)]  # data after FIN is never read, as with xtaci; one FIN counts
    assert server.write(3, b"still") == Frame(Command.PSH, 3, b"still").encode()
    assert server.close(3) == Frame(Command.FIN, 3).encode()
    assert server.close(3) == b""  # closing twice sends one FIN
    with pytest.raises(ClosedStreamError):
        server.write(3, b"too late")


def test_a_stream_closed_here_ignores_what_the_peer_still_sends() -> None:
    client = SmuxSession(client=True)
    sid, _ = client.open()
    client.close(sid)
    assert client.feed(Frame(Command.PSH, sid, b"late").encode() + Frame(Command.FIN, sid).encode()) == []


def test_keepalive_is_a_nop_on_stream_zero() -> None:
    assert SmuxSession(client=True).keepalive() == bytes([1, 3, 0, 0, 0, 0, 0, 0])


def test_bytes_of_another_version_are_refused() -> None:
    with pytest.raises(SmuxError):
        SmuxSession(client=False).feed(bytes([2, 0, 0, 0, 3, 0, 0, 0]))


def test_writing_to_a_stream_never_opened_is_refused() -> None:
    with pytest.raises(ClosedStreamError):
        SmuxSession(client=True).write(3, b"x")
