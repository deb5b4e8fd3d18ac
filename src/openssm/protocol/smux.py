"""smux v1 (xtaci/smux), the multiplexer AWS's plugin and agent run inside `LocalPortForwarding` sessions.

Frame: version (1), command (SYN 0, FIN 1, PSH 2, NOP 3), payload length (u16 little-endian), stream id
(u32 little-endian), payload. Session Manager carries the frames as a plain byte stream cut into
messages of at most 1024 bytes, so a frame can straddle messages: `FrameReader` reassembles them.
Written here because no maintained Python implementation of smux exists.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

VERSION = 1
HEADER = struct.Struct("<BBHI")
MAX_PAYLOAD = 0xFFFF


class Command(IntEnum):
    SYN = 0
    FIN = 1
    PSH = 2
    NOP = 3


class SmuxError(ValueError):
    """Bytes that are not smux v1."""


@dataclass(frozen=True)
class Frame:
    command: Command
    stream_id: int
    payload: bytes = b""

    def encode(self) -> bytes:
        if len(self.payload) > MAX_PAYLOAD:
            raise SmuxError(f"smux payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        return HEADER.pack(VERSION, self.command, len(self.payload), self.stream_id) + self.payload


def data_frames(stream_id: int, data: bytes, chunk: int = MAX_PAYLOAD) -> Iterator[Frame]:
    """PSH frames carrying `data`, each at most `chunk` bytes."""
    for start in range(0, len(data), chunk):
        yield Frame(Command.PSH, stream_id, data[start:start + chunk])


class FrameReader:
    """Feed it the session's bytes in any pieces; it yields each frame once it is complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER.size:
            version, command, length, stream_id = HEADER.unpack_from(self._buffer)
            if version != VERSION:
                raise SmuxError(f"smux version {version}, expected {VERSION}")
            try:
                kind = Command(command)
            except ValueError as err:
                raise SmuxError(f"unknown smux command {command}") from err
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            frames.append(Frame(kind, stream_id, bytes(self._buffer[HEADER.size:end])))
            del self._buffer[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes held back because their frame is not complete yet."""
        return len(self._buffer)
