"""Standard_Stream and InteractiveCommands sessions, as AWS's agent runs them (agent/session/shell): `sh` (or
`sh -c <command>`) on a PTY as the session's user, the shell profile typed in first, keystrokes written to the
terminal, SIZE messages applied with TIOCSWINSZ, and the terminal's output sent as OUTPUT in ≤ 1024-byte
messages of whole characters. The session ends when the shell (or command) exits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess

from openssm.agent.sessions.document import InvalidSession, SessionConfig
from openssm.agent.sessions.plugin import (
    MAX_PAYLOAD,
    FinalStatus,
    Output,
    PluginResult,
    SessionFailed,
    WholeCharacters,
)
from openssm.agent.sessions.processes import PtyProcess, kill_tree, session_environment
from openssm.agent.sessions.users import SessionUsers
from openssm.protocol.agent_message import AgentMessageError, PayloadType
from openssm.protocol.data_channel import SessionType, terminal_size

log = logging.getLogger(__name__)
OUTPUT_AFTER_EXIT = 1.0  # how long output still drains once the shell has exited (a background job may hold it)


class ShellPlugin:
    def __init__(self, config: SessionConfig, output: Output, users: SessionUsers) -> None:
        self._config = config
        self._output = output
        self._users = users
        self._pty: PtyProcess | None = None
        self._pump: asyncio.Task[None] | None = None

    def _argv(self) -> tuple[list[str], bool]:
        if self._config.session_type is SessionType.STANDARD_STREAM:
            return ["sh"], False
        shell = self._config.shell
        if not shell.commands.strip():
            raise SessionFailed(f"Commands cannot be empty for session type {self._config.session_type.value}")
        return ["sh", "-c", shell.commands], shell.run_as_elevated

    async def start(self) -> None:
        try:
            argv, elevated = self._argv()
        except InvalidSession as err:
            raise SessionFailed(str(err)) from err
        try:
            identity = self._users.identity(self._config, elevated)
        except InvalidSession as err:
            raise SessionFailed(f"Unable to start command: {err}\n") from err
        try:
            self._pty = await PtyProcess.start(argv, identity, session_environment(identity, elevated=elevated))
        except (OSError, subprocess.SubprocessError) as err:
            raise SessionFailed(f"Unable to start command: Failed to start pty: {err}\n") from err
        log.info("session %s: %s started as %s (pid %d)", self._config.session_id, argv[0],
                 identity.name if identity else "the agent's user", self._pty.pid)
        profile = self._config.shell_profile
        if self._config.session_type is SessionType.STANDARD_STREAM and profile.strip():
            self._pty.write(profile.encode() + b"\n")
        self._pump = asyncio.create_task(self._send_output(self._pty))

    async def _send_output(self, pty: PtyProcess) -> None:
        characters = WholeCharacters()
        while data := await pty.read(MAX_PAYLOAD - characters.held):
            await self._output.send(PayloadType.OUTPUT, characters.take(data))
        await self._output.send(PayloadType.OUTPUT, characters.rest())

    async def input(self, payload_type: PayloadType, payload: bytes) -> None:
        if self._pty is None:
            return
        if payload_type == PayloadType.OUTPUT:
            self._pty.write(payload)
        elif payload_type == PayloadType.SIZE:
            try:
                cols, rows = terminal_size(payload)
                self._pty.resize(cols, rows)
            except (AgentMessageError, OSError, OverflowError) as err:
                log.warning("session %s: bad terminal size: %s", self._config.session_id, err)

    async def wait(self) -> PluginResult:
        assert self._pty is not None and self._pump is not None
        code = await self._pty.process.wait()
        log.info("session %s: shell exited with %d", self._config.session_id, code)
        await asyncio.wait({self._pump}, timeout=OUTPUT_AFTER_EXIT)
        return PluginResult(FinalStatus.SUCCESS)

    async def stop(self) -> None:
        pty, self._pty = self._pty, None
        if pty is None:
            return
        kill_tree(pty.pid)
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
        pty.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pty.process.wait(), 5)
