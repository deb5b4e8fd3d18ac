"""A session's processes: started in their own session and process group (in a PTY that is their controlling
terminal, or with pipes), as the session's user, and ended with every descendant when the session ends
(the process group, the Unix session, and any descendant that left both)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import signal
import struct
import termios
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openssm.agent.sessions.users import Identity

TERM = "xterm-256color"


def session_environment(identity: Identity | None, *, elevated: bool = False) -> dict[str, str]:
    """The agent's environment with AWS's additions: TERM, LANG when unset, and the user's HOME."""
    env = dict(os.environ)
    env["TERM"] = TERM
    env.setdefault("LANG", "C.UTF-8")
    if identity is not None:
        env.update(identity.environment())
    if elevated:
        env["HOME"] = "/root"
    return env


def _as(identity: Identity | None) -> dict[str, Any]:
    if identity is None:
        return {}
    return {"user": identity.uid, "group": identity.gid, "extra_groups": list(identity.groups)}


def _take_controlling_terminal() -> None:
    # Runs in the child between fork and exec, after setsid(): its stdin (the PTY's slave) becomes the
    # controlling terminal, so the shell has job control and Ctrl-C reaches its foreground job.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # An agent started in the background by a shell inherits SIGINT and SIGQUIT ignored, and so would the
    # session's shell: Ctrl-C would echo ^C and stop nothing.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


class PtyProcess:
    """A process on a new PTY; reads and writes go through the PTY's master end without blocking the loop."""

    def __init__(self, process: asyncio.subprocess.Process, master: int) -> None:
        self.process = process
        self._master = master
        self._pending = bytearray()
        self._closed = False
        self._loop = asyncio.get_running_loop()

    @classmethod
    async def start(cls, argv: list[str], identity: Identity | None, env: Mapping[str, str]) -> PtyProcess:
        master, slave = os.openpty()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=slave, stdout=slave, stderr=slave, env=dict(env), start_new_session=True,
                preexec_fn=_take_controlling_terminal, **_as(identity))
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(process, master)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def read(self, size: int) -> bytes:
        """Up to `size` bytes of output; b"" once no process holds the terminal any longer."""
        while not self._closed:
            try:
                return os.read(self._master, size)
            except BlockingIOError:
                await self._ready(self._loop.add_reader, self._loop.remove_reader)
            except OSError as err:
                if err.errno == errno.EIO:  # Linux: every slave end is closed
                    return b""
                raise
        return b""

    async def _ready(self, add: Any, remove: Any) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        add(self._master, ready)
        try:
            await waiter
        finally:
            remove(self._master)

    def write(self, data: bytes) -> None:
        """Queue keystrokes; they are written as the terminal takes them, never blocking the caller."""
        if self._closed:
            return
        was_idle = not self._pending
        self._pending += data
        if was_idle:
            self._flush()

    def _flush(self) -> None:
        try:
            while self._pending and not self._closed:
                written = os.write(self._master, self._pending)
                del self._pending[:written]
        except BlockingIOError:
            self._loop.add_writer(self._master, self._flush_ready)
            return
        except OSError:
            self._pending.clear()  # the terminal is gone: nothing will read the rest
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(self._master)

    def _flush_ready(self) -> None:
        self._loop.remove_writer(self._master)
        self._flush()

    def resize(self, cols: int, rows: int) -> None:
        """TIOCSWINSZ on the master: the kernel signals SIGWINCH to the terminal's foreground job."""
        if not self._closed:
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_writer(self._master)
                self._loop.remove_reader(self._master)
            os.close(self._master)


async def start_piped(argv: list[str], identity: Identity | None, env: Mapping[str, str], *,
                      separate_stderr: bool) -> asyncio.subprocess.Process:
    """A process without a terminal: stdout (and stderr with it, or on a pipe of its own), no stdin."""
    return await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE if separate_stderr else asyncio.subprocess.STDOUT, env=dict(env),
        start_new_session=True, **_as(identity))


def _process_table(proc: Path = Path("/proc")) -> dict[int, tuple[int, int, int]]:
    """pid → (parent pid, process group, session) of every live (not zombie) process."""
    table: dict[int, tuple[int, int, int]] = {}
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) >= 4 and fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), int(fields[2]), int(fields[3]))
    return table


def descendants(root: int, table: Mapping[int, tuple[int, int, int]]) -> set[int]:
    """The processes started under `root`: its process group, its Unix session, and its children's children
    (those that left both), as far as the table still links them to it."""
    found = {pid for pid, (_, group, session) in table.items() if root in (group, session) or pid == root}
    grew = True
    while grew:
        more = {pid for pid, (parent, _, _) in table.items() if parent in found and pid not in found}
        found |= more
        grew = bool(more)
    return found


def kill_tree(root: int) -> None:
    """SIGKILL `root` and everything it started; repeated while forks race the kill."""
    me = os.getpid()
    for _ in range(5):
        victims = descendants(root, _process_table()) - {me}
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def send_signal(process: asyncio.subprocess.Process, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signum)
