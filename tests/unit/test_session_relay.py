"""The server's session relay: frames pass unchanged, wait for an absent end, and what passes is recorded once
and in order however often it is resent."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from openssm.bus.session_relay import RelayRegistry, SessionRelay, Side
from openssm.protocol.agent_message import AgentMessage, PayloadType
from openssm.protocol.asciicast import read
from openssm.protocol.data_channel import ChannelClosed, MessageType, stream_message
from openssm.services.session_recording import SessionRecording

SESSION, NODE = "Jane-Roe-07a16060613c408b5", "mi-0123456789abcdef0"


class Socket:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.closed: str | None = None

    async def send(self, frame: bytes) -> None:
        self.frames.append(frame)

    async def close(self, reason: str) -> None:
        self.closed = reason


class Seen:
    def __init__(self) -> None:
        self.outputs: list[bytes] = []
        self.sizes: list[tuple[int, int]] = []
        self.closed = False

    def output(self, data: bytes) -> None:
        self.outputs.append(data)

    def input(self, data: bytes) -> None:
        pass

    def resized(self, cols: int, rows: int) -> None:
        self.sizes.append((cols, rows))

    def close(self) -> None:
        self.closed = True


def out(sequence: int, data: bytes) -> bytes:
    return stream_message(MessageType.OUTPUT, sequence, PayloadType.OUTPUT, data, 0).encode()


def typed(sequence: int, data: bytes, kind: PayloadType = PayloadType.OUTPUT) -> bytes:
    return stream_message(MessageType.INPUT, sequence, kind, data, 0).encode()


def test_frames_for_a_client_not_yet_connected_wait_and_arrive_in_order() -> None:
    frames = [out(0, b"handshake"), out(1, b"$ "), out(2, b"later")]

    async def scenario() -> list[bytes]:
        relay, client = SessionRelay(SESSION, NODE, Seen()), Socket()
        await relay.forward(Side.AGENT, frames[0])
        await relay.forward(Side.AGENT, frames[1])
        await relay.join(Side.CLIENT, client)
        await relay.forward(Side.AGENT, frames[2])
        return client.frames
    assert asyncio.run(scenario()) == frames


def test_resent_and_early_output_is_recorded_once_and_in_order() -> None:
    async def scenario() -> tuple[Seen, SessionRelay]:
        seen = Seen()
        relay = SessionRelay(SESSION, NODE, seen)
        await relay.join(Side.CLIENT, Socket())
        for frame in (out(0, b"a"), out(2, b"c"), out(0, b"a"), out(1, b"b"), out(2, b"c")):
            await relay.forward(Side.AGENT, frame)
        await relay.forward(Side.CLIENT, typed(0, b"ls\r"))
        await relay.forward(Side.CLIENT, typed(1, json.dumps({"cols": 120, "rows": 40}).encode(), PayloadType.SIZE))
        return seen, relay
    seen, relay = asyncio.run(scenario())
    assert seen.outputs == [b"a", b"b", b"c"] and seen.sizes == [(120, 40)]
    assert (relay.bytes_to_client, relay.bytes_from_client) == (3, 3)


def test_a_reconnecting_client_replaces_its_old_connection() -> None:
    missed = out(0, b"while away")

    async def scenario() -> tuple[Socket, Socket]:
        relay, old, new = SessionRelay(SESSION, NODE, Seen()), Socket(), Socket()
        await relay.join(Side.CLIENT, old)
        relay.leave(Side.CLIENT, old)
        await relay.forward(Side.AGENT, missed)
        await relay.join(Side.CLIENT, new)
        return old, new
    old, new = asyncio.run(scenario())
    assert old.frames == [] and new.frames == [missed]


def test_channel_closed_from_the_agent_passes_to_the_client_and_ends_the_relay() -> None:
    async def scenario() -> tuple[Socket, bool]:
        relay, client = SessionRelay(SESSION, NODE, Seen()), Socket()
        await relay.join(Side.CLIENT, client)
        await relay.forward(Side.AGENT, ChannelClosed(SESSION, NODE, "bye").message(0).encode())
        return client, relay.ended.is_set()
    client, ended = asyncio.run(scenario())
    assert ended and ChannelClosed.decode(AgentMessage.decode(client.frames[0])).output == "bye"


def test_ending_a_session_sends_channel_closed_to_both_ends_and_closes_them() -> None:
    async def scenario() -> tuple[Socket, Socket]:
        registry = RelayRegistry()
        relay, made = registry.get_or_make(SESSION, lambda: SessionRelay(SESSION, NODE, Seen()))
        again, made_again = registry.get_or_make(SESSION, lambda: SessionRelay(SESSION, NODE, Seen()))
        assert made and not made_again and again is relay
        client, agent = Socket(), Socket()
        await relay.join(Side.CLIENT, client)
        await relay.join(Side.AGENT, agent)
        registry.end(SESSION, "", 0)
        await asyncio.wait_for(relay.ended.wait(), 5)
        return client, agent
    client, agent = asyncio.run(scenario())
    for end in (client, agent):
        closed = AgentMessage.decode(end.frames[-1])
        assert closed.message_type == MessageType.CHANNEL_CLOSED and end.closed == "session ended"
        assert ChannelClosed.decode(closed).session_id == SESSION


def test_a_recording_holds_the_transcript_and_an_asciicast_with_resizes(tmp_path: Path) -> None:
    ticks = iter([0.0, 0.5, 1.25, 2.0])
    recording = SessionRecording(tmp_path, SESSION, dt.datetime(2026, 12, 6, tzinfo=dt.UTC), "shell",
                                 clock=lambda: next(ticks))
    recording.resized(100, 30)  # before any output: the recording's own size
    recording.output("é".encode()[:1])  # a character cut between two messages stays whole
    recording.output("é".encode()[1:] + b"$ ")
    recording.resized(120, 40)
    recording.close()
    assert recording.transcript_path.read_bytes() == "é$ ".encode()
    with recording.cast_path.open() as lines:
        header, events = read(iter(lines))
    assert (header.width, header.height, header.title) == (100, 30, "shell")
    assert [(e.time, e.code, e.data) for e in events] == [(0.5, "o", "é$ "), (1.25, "r", "120x40")]


class Bus:
    """Two processes' links: what one publishes for a side reaches the other's subscriber of that side."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list[Any]] = {}

    def links(self) -> Any:
        bus = self

        class Links:
            enabled = True

            async def publish(self, session_id: str, side: str, frame: bytes) -> None:
                for deliver in bus.subscribers.get(side, []):
                    await deliver(frame)

            async def subscribe(self, session_id: str, side: str, deliver: Any) -> Any:
                bus.subscribers.setdefault(side, []).append(deliver)

                async def unsubscribe() -> None:
                    bus.subscribers[side].remove(deliver)
                return unsubscribe
        return Links()


def test_ends_held_by_two_processes_meet_over_the_links_and_only_the_agents_process_watches() -> None:
    greeting, typed_in = out(0, b"$ "), typed(0, b"ls\r")

    async def scenario() -> tuple[Socket, Socket, Seen, Seen]:
        bus = Bus()
        here_seen, there_seen = Seen(), Seen()
        client_side = SessionRelay(SESSION, NODE, here_seen, links=bus.links())
        agent_side = SessionRelay(SESSION, NODE, there_seen, links=bus.links())
        client, agent = Socket(), Socket()
        await client_side.join(Side.CLIENT, client)
        await bus.links().subscribe(SESSION, "client", lambda f: client_side.deliver(Side.CLIENT, f))
        await agent_side.join(Side.AGENT, agent)
        await bus.links().subscribe(SESSION, "agent", lambda f: agent_side.deliver(Side.AGENT, f))
        await agent_side.forward(Side.AGENT, greeting)
        await client_side.forward(Side.CLIENT, typed_in)
        return client, agent, here_seen, there_seen
    client, agent, here_seen, there_seen = asyncio.run(scenario())
    assert client.frames == [greeting] and agent.frames == [typed_in]
    assert here_seen.outputs == [] and there_seen.outputs == [b"$ "]


def test_an_unrecorded_session_counts_each_messages_bytes_once_from_its_header() -> None:
    async def scenario() -> SessionRelay:
        relay = SessionRelay(SESSION, NODE, Seen(), check_digests=False)
        await relay.join(Side.CLIENT, Socket())
        await relay.join(Side.AGENT, Socket())
        for frame in (out(0, b"abc"), out(2, b"fg"), out(0, b"abc"), out(1, b"de"), out(2, b"fg")):
            await relay.forward(Side.AGENT, frame)
        await relay.forward(Side.CLIENT, typed(0, b"xyz"))
        await relay.forward(Side.CLIENT, typed(1, json.dumps({"cols": 1, "rows": 1}).encode(), PayloadType.SIZE))
        return relay
    relay = asyncio.run(scenario())
    assert (relay.bytes_to_client, relay.bytes_from_client) == (7, 3)


def test_the_agents_session_state_is_kept_from_the_client() -> None:
    from openssm.protocol.agent_message import Flags

    state = AgentMessage(MessageType.AGENT_SESSION_STATE, 0, Flags.NONE, uuid.uuid4(), PayloadType.UNDEFINED,
                         b'{"SessionState":"Connected"}', 0).encode()

    async def scenario() -> Socket:
        relay, client = SessionRelay(SESSION, NODE, Seen()), Socket()
        await relay.join(Side.CLIENT, client)
        await relay.forward(Side.AGENT, state)
        await relay.forward(Side.AGENT, out(0, b"$ "))
        return client
    frames = asyncio.run(scenario()).frames
    assert [AgentMessage.decode(f).message_type for f in frames] == [MessageType.OUTPUT]


def test_the_node_saying_its_session_ends_is_noted_not_passed_on() -> None:
    from openssm.protocol.agent_data_channel import AgentSessionState, SessionState

    async def scenario() -> tuple[Socket, bool]:
        relay, client = SessionRelay(SESSION, NODE, Seen()), Socket()
        await relay.join(Side.CLIENT, client)
        await relay.forward(Side.AGENT, AgentSessionState(SESSION, SessionState.CONNECTED).message(0).encode())
        assert not relay.agent_terminating
        await relay.forward(Side.AGENT, AgentSessionState(SESSION, SessionState.TERMINATING).message(0).encode())
        return client, relay.agent_terminating
    client, terminating = asyncio.run(scenario())
    assert client.frames == [] and terminating
