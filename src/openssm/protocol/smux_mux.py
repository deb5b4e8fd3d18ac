"""An smux v1 session, sans I/O: stream ids, open/close state and events on top of the frame codec in smux.py.

It keeps xtaci/smux's rules (the library AWS's plugin and agent both run): a client opens odd stream ids from 3
(xtaci adds 2 before its first use of the initial 1; the captured plugin opened 3), a server even ones from 2;
a SYN for a stream already open, a FIN or PSH for a stream not open, and NOPs change nothing; a FIN from the
peer ends the stream's read side while it stays writable until closed locally (smux v1 has no half-close of
its own); closing a stream sends FIN and forgets it, so the peer's answering FIN is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from openssm.protocol.smux import MAX_PAYLOAD, Command, Frame, FrameReader, SmuxError, data_frames

__all__ = ["ClosedStreamError", "SmuxEvent", "SmuxSession", "StreamClosed", "StreamData", "StreamOpened"]

_MAX_STREAM_ID = 0xFFFFFFFF


class ClosedStreamError(SmuxError):
    """A write to a stream that is not open here (never opened, or closed locally): xtaci's ErrClosedPipe."""


@dataclass(frozen=True)
class StreamOpened:
    """The peer opened a stream (SYN)."""

    stream_id: int


@dataclass(frozen=True)
class StreamData:
    stream_id: int
    data: bytes


@dataclass(frozen=True)
class StreamClosed:
    """The peer closed a stream (FIN): nothing more will be read from it; answer with `close()`."""

    stream_id: int


SmuxEvent = StreamOpened | StreamData | StreamClosed


class SmuxSession:
    """One end of an smux v1 session. Feed it the bytes that arrive, send the bytes its methods return."""

    def __init__(self, client: bool) -> None:
        self.client = client
        self._next_id = 1 if client else 0
        self._reader = FrameReader()
        self._open: set[int] = set()
        self._peer_finished: set[int] = set()

    @property
    def stream_ids(self) -> frozenset[int]:
        """Streams open on this end (a stream the peer finished stays open until closed here)."""
        return frozenset(self._open)

    def open(self) -> tuple[int, bytes]:
        """A new stream: its id and the SYN frame to send."""
        if self._next_id + 2 > _MAX_STREAM_ID:
            raise SmuxError("smux stream ids exhausted; start a new session")  # xtaci's ErrGoAway
        self._next_id += 2
        self._open.add(self._next_id)
        return self._next_id, Frame(Command.SYN, self._next_id).encode()

    def write(self, stream_id: int, data: bytes) -> bytes:
        """PSH frames carrying `data` (each at most 65535 bytes); nothing for empty data."""
        if stream_id not in self._open:
            raise ClosedStreamError(f"smux stream {stream_id} is not open")
        return b"".join(f.encode() for f in data_frames(stream_id, data, MAX_PAYLOAD))

    def close(self, stream_id: int) -> bytes:
        """The FIN frame that closes the stream; nothing when it is not open (closing twice sends one FIN)."""
        if stream_id not in self._open:
            return b""
        self._open.discard(stream_id)
        self._peer_finished.discard(stream_id)
        return Frame(Command.FIN, stream_id).encode()

    def keepalive(self) -> bytes:
        """A NOP frame: xtaci closes a session that received nothing for its keepalive timeout (30 s)."""
        return Frame(Command.NOP, 0).encode()

    def feed(self, data: bytes) -> list[SmuxEvent]:
        """Events for the complete frames in `data` (with whatever was held back from earlier calls).
        Raises SmuxError on bytes that are not smux v1; the session is unusable after that, as xtaci's."""
        events: list[SmuxEvent] = []
        for frame in self._reader.feed(data):
            event = self._receive(frame)
            if event is not None:
                events.append(event)
        return events

    def _receive(self, frame: Frame) -> SmuxEvent | None:
        sid = frame.stream_id
        if frame.command is Command.SYN:
            if sid in self._open:
                return None
            self._open.add(sid)
            return StreamOpened(sid)
        if frame.command is Command.FIN:
            if sid not in self._open or sid in self._peer_finished:
                return None
            self._peer_finished.add(sid)
            return StreamClosed(sid)
        if frame.command is Command.PSH:
            # xtaci's reader reports EOF once the FIN arrived and its buffer drained, so bytes sent after a FIN
            # are never read; they are dropped here, and StreamClosed stays a stream's last event.
            if sid not in self._open or sid in self._peer_finished or not frame.payload:
                return None
            return StreamData(sid, frame.payload)
        return None  # NOP
