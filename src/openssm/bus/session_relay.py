"""The server's relay between a session's client (session-manager-plugin) and its agent (DESIGN §4): frames
pass through unchanged, since the two ends acknowledge and resend to each other; a frame for an end that is
not connected (yet, or while it reconnects) waits here, so a handshake sent before the client arrives is
not lost and a resumed client gets what it missed without waiting for retransmission.

The relay watches what passes, through its own ordering of each direction (resent and early messages are
seen once, in order), to record a shell's output and count the bytes each way. One relay per session per
process; `RelayRegistry` finds them. When the two ends reach different processes, frames for the end held
elsewhere go over NATS (bus/session_links.py) and arrive there through `deliver`; the process that holds the
agent's end, through which both directions pass, is the one that watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from openssm.bus.session_links import NoLinks, SessionLinks
from openssm.protocol.agent_data_channel import AgentSessionState, SessionState
from openssm.protocol.agent_message import AgentMessage, AgentMessageError, Glance, PayloadType, glance
from openssm.protocol.data_channel import ChannelClosed, MessageType, terminal_size
from openssm.protocol.stream_window import IncomingStream

log = logging.getLogger(__name__)
MAX_WAITING_BYTES = 8 << 20  # beyond this an absent end's frames are dropped; its peer resends them


class Side(StrEnum):
    CLIENT = "client"
    AGENT = "agent"

    @property
    def other(self) -> Side:
        return Side.AGENT if self is Side.CLIENT else Side.CLIENT


class Peer(Protocol):
    async def send(self, frame: bytes) -> None: ...

    async def close(self, reason: str) -> None: ...


class Observer(Protocol):
    """What the relay tells about the session's content (recording, byte counts)."""

    def output(self, data: bytes) -> None: ...

    def input(self, data: bytes) -> None: ...

    def resized(self, cols: int, rows: int) -> None: ...

    def close(self) -> None: ...


@dataclass
class _End:
    peer: Peer | None = None
    waiting: deque[bytes] = field(default_factory=deque)
    waiting_bytes: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stream: IncomingStream = field(default_factory=IncomingStream)  # what this end sends, ordered


def _terminating(frame: bytes) -> bool:
    try:
        return AgentSessionState.decode(AgentMessage.decode(frame)).state is SessionState.TERMINATING
    except AgentMessageError:
        return False


def _glance(frame: bytes) -> Glance | None:
    try:
        return glance(frame)
    except AgentMessageError:
        return None


def _counts(source: Side, payload_type: int) -> bool:
    """The payloads that are a session's content: its bytes each way (and a command's stderr)."""
    return payload_type == PayloadType.OUTPUT or (source is Side.AGENT and payload_type == PayloadType.STDERR)


class _SequenceCounter:
    """Bytes of each sequence number once, however often it is resent (IncomingStream's rule, without keeping
    the messages)."""

    def __init__(self) -> None:
        self._expected = 0
        self._early: dict[int, int] = {}

    def fresh(self, sequence: int, length: int) -> int:
        if sequence < self._expected or sequence in self._early:
            return 0
        if sequence > self._expected:
            self._early[sequence] = length
            return 0
        total = length
        self._expected += 1
        while self._expected in self._early:
            total += self._early.pop(self._expected)
            self._expected += 1
        return total


class SessionRelay:
    def __init__(self, session_id: str, target: str, observer: Observer, *, check_digests: bool = True,
                 links: SessionLinks | None = None) -> None:
        """`check_digests`: verify each payload's SHA-256 before the observer sees it; a session whose content
        is not recorded skips it (the two ends verify every message anyway), which a tunnel's speed needs."""
        self.session_id = session_id
        self._check_digests = check_digests
        self._links: SessionLinks = links or NoLinks()
        self.agent_joined = False  # the agent's end has been held here: this relay watches the session
        self.agent_terminating = False  # the node said the session ended there
        self._counters = {Side.CLIENT: _SequenceCounter(), Side.AGENT: _SequenceCounter()}
        self.target = target
        self.observer = observer
        self._ends = {Side.CLIENT: _End(), Side.AGENT: _End()}
        self.ended = asyncio.Event()
        self.bytes_from_client = 0
        self.bytes_to_client = 0

    def connected(self, side: Side) -> bool:
        return self._ends[side].peer is not None

    async def join(self, side: Side, peer: Peer) -> None:
        """`peer` is now this side's end (a reconnecting end replaces its old connection); what waited for it
        is sent first."""
        end = self._ends[side]
        if side is Side.AGENT:
            self.agent_joined = True
        async with end.lock:
            old, end.peer = end.peer, peer
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.close("replaced by a new connection")
            while end.waiting:
                frame = end.waiting.popleft()
                end.waiting_bytes -= len(frame)
                await peer.send(frame)

    def leave(self, side: Side, peer: Peer) -> None:
        end = self._ends[side]
        if end.peer is peer:
            end.peer = None

    async def forward(self, source: Side, frame: bytes) -> None:
        """A frame from `source`, held here, to the other end: here (now, or when it connects), or in the
        process that holds it."""
        seen = _glance(frame)
        if source is Side.AGENT and seen is not None and seen.message_type == MessageType.AGENT_SESSION_STATE:
            # For the service, not the client (AWS's plugin warns of it as unknown). "Terminating": the
            # session ended on the node, which closes its data channel next.
            self.agent_terminating |= _terminating(frame)
            return
        closed = self._observe(source, frame, seen)
        if not await self._to_local(source.other, frame) and self._links.enabled:
            await self._links.publish(self.session_id, source.other.value, frame)
        if closed:
            self.ended.set()

    async def deliver(self, side: Side, frame: bytes) -> None:
        """A frame for the `side` end held here, from the other end held in another process."""
        closed = self._observe(side.other, frame, _glance(frame))
        await self._to_local(side, frame)
        if closed:
            self.ended.set()

    async def _to_local(self, side: Side, frame: bytes) -> bool:
        """Send to this side's end if held here (True), else keep it for its return here."""
        end = self._ends[side]
        async with end.lock:
            if end.peer is not None:
                try:
                    await end.peer.send(frame)
                    return True
                except Exception:  # that end just went away: keep the frame for its return
                    end.peer = None
            self._wait(end, frame)
            return False

    @staticmethod
    def _wait(end: _End, frame: bytes) -> None:
        if end.waiting_bytes + len(frame) <= MAX_WAITING_BYTES:
            end.waiting.append(frame)
            end.waiting_bytes += len(frame)

    def _observe(self, source: Side, frame: bytes, seen: Glance | None) -> bool:
        """Feed the recording and the counters; True when the frame closes the channel. An unrecorded
        session's frames are counted from their headers alone (a tunnel's speed depends on it)."""
        if seen is None:
            log.info("session %s: an undecodable frame from the %s passed through", self.session_id, source)
            return False
        if seen.message_type == MessageType.CHANNEL_CLOSED:
            return True
        if self._links.enabled and not self.agent_joined:
            return False  # the process holding the agent's end watches
        if seen.message_type != (MessageType.INPUT if source is Side.CLIENT else MessageType.OUTPUT):
            return False
        if not self._check_digests:
            counted = seen.payload_length if _counts(source, seen.payload_type) else 0
            self._tally(source, self._counters[source].fresh(seen.sequence_number, counted))
            return False
        try:
            message = AgentMessage.decode(frame)
        except AgentMessageError as err:
            log.info("session %s: an undecodable frame from the %s passed through: %s", self.session_id, source, err)
            return False
        for m in self._ends[source].stream.receive(message).ready:
            self._content(source, m)
        return False

    def _tally(self, source: Side, count: int) -> None:
        if source is Side.CLIENT:
            self.bytes_from_client += count
        else:
            self.bytes_to_client += count

    def _content(self, source: Side, message: AgentMessage) -> None:
        if _counts(source, message.payload_type):
            self._tally(source, len(message.payload))
            if source is Side.CLIENT:
                self.observer.input(message.payload)
            else:
                self.observer.output(message.payload)
        elif message.payload_type == PayloadType.SIZE and source is Side.CLIENT:
            with contextlib.suppress(AgentMessageError):
                self.observer.resized(*terminal_size(message.payload))

    async def close(self, output: str, now_ms: int) -> None:
        """End the session on both ends: channel_closed to each connected end, then the connection closes."""
        frame = ChannelClosed(self.session_id, self.target, output).message(now_ms).encode()
        for end in self._ends.values():
            async with end.lock:
                peer, end.peer = end.peer, None
                if peer is not None:
                    with contextlib.suppress(Exception):
                        await peer.send(frame)
                        await peer.close("session ended")
        self.ended.set()


class RelayRegistry:
    """This process's relays by session id; the data channel endpoint makes them, TerminateSession and the
    agent's agent_task_complete end them."""

    def __init__(self) -> None:
        self._relays: dict[str, SessionRelay] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def get_or_make(self, session_id: str, make: Callable[[], SessionRelay]) -> tuple[SessionRelay, bool]:
        """The session's relay, and whether it was made now (on the event loop)."""
        self._loop = asyncio.get_running_loop()
        relay = self._relays.get(session_id)
        if relay is not None:
            return relay, False
        relay = self._relays[session_id] = make()
        return relay, True

    def forget(self, session_id: str, relay: SessionRelay) -> None:
        if self._relays.get(session_id) is relay:
            del self._relays[session_id]

    def end(self, session_id: str, output: str, now_ms: int) -> None:
        """Close the session's relay if this process holds it; safe from any thread."""
        relay, loop = self._relays.get(session_id), self._loop
        if relay is None or loop is None:
            return
        closing: SessionRelay = relay
        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(closing.close(output, now_ms)))

    def held(self) -> list[str]:
        return list(self._relays)
