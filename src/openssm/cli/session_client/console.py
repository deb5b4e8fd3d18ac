"""The plugin's side of the user's terminal: stdout and stderr as byte streams, stdin read in ≤ 1024-byte
chunks (AWS's StreamDataPayloadSize) by a daemon thread, so a regular file, a pipe and a tty all work, and raw
mode for shell sessions. Tests hand it pipes and buffers instead of the process's own streams."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

CHUNK = 1024  # a terminal's keystrokes, as AWS's plugin reads them
STREAM_CHUNK = 64 * 1024  # a byte stream's (ssh's ProxyCommand pipe)


def _stdout() -> BinaryIO:
    return sys.stdout.buffer


def _stderr() -> BinaryIO:
    return sys.stderr.buffer


@dataclass
class Console:
    stdout: BinaryIO = field(default_factory=_stdout)
    stderr: BinaryIO = field(default_factory=_stderr)
    stdin_fd: int = 0

    def out(self, data: bytes | str) -> None:
        _write(self.stdout, data)

    def err(self, data: bytes | str) -> None:
        _write(self.stderr, data)

    def stdin_is_tty(self) -> bool:
        return os.isatty(self.stdin_fd)

    def terminal_size(self) -> tuple[int, int]:
        """(cols, rows) of the terminal on stdout; 80x24 when it is not one."""
        try:
            size = os.get_terminal_size(self.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            return 80, 24
        return size.columns, size.lines

    async def stdin_chunks(self, size: int = CHUNK) -> AsyncIterator[bytes]:
        """stdin until end of file. A daemon thread reads, so an exit never waits on a blocked read."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue()

        def put(chunk: bytes) -> None:
            queue.put_nowait(chunk)

        def read() -> None:
            while True:
                try:
                    chunk = os.read(self.stdin_fd, size)
                except OSError:
                    chunk = b""
                try:
                    loop.call_soon_threadsafe(put, chunk)
                except RuntimeError:  # the loop is gone: the session is over
                    return
                if not chunk:
                    return

        threading.Thread(target=read, name="session-stdin", daemon=True).start()
        while chunk := await queue.get():
            yield chunk

    @contextlib.contextmanager
    def raw_terminal(self) -> Iterator[None]:
        """Keystrokes pass straight through (Ctrl-C included) while a shell session runs."""
        if not self.stdin_is_tty():
            yield
            return
        import termios
        import tty

        saved = termios.tcgetattr(self.stdin_fd)
        try:
            # TCSANOW, not setraw's default TCSAFLUSH: what was typed while the session was starting is kept.
            tty.setraw(self.stdin_fd, termios.TCSANOW)
            yield
        finally:
            termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, saved)


def _write(stream: BinaryIO, data: bytes | str) -> None:
    stream.write(data.encode() if isinstance(data, str) else data)
    stream.flush()
