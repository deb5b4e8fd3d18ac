"""NonInteractiveCommands sessions (AWS-StartNonInteractiveCommand), as AWS's agent runs them
(agent/session/shell, `executeCommandsWithExec`): the command split shell-wise and run without a terminal.
When the document asks for separate output streams (`separateOutputStream`), stdout goes as OUTPUT and stderr
as STDERR, each chunk that starts a line prefixed as asked, and the exit code follows as EXIT_CODE
(`EXIT_CODE: <n>`); otherwise both go, as they come, as OUTPUT. Ctrl-C and Ctrl-\\ in the client's input
signal the command; nothing else is read."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import subprocess

from openssm.agent.sessions.document import InvalidSession, SessionConfig, ShellProperties
from openssm.agent.sessions.plugin import (
    MAX_PAYLOAD,
    FinalStatus,
    Output,
    PluginResult,
    SessionFailed,
    WholeCharacters,
)
from openssm.agent.sessions.processes import kill_tree, session_environment, start_piped
from openssm.agent.sessions.users import SessionUsers
from openssm.protocol.agent_message import PayloadType

log = logging.getLogger(__name__)
ERROR_EXIT_CODE = 1
CONTROL_SIGNALS = {0x03: signal.SIGINT, 0x1C: signal.SIGQUIT}  # AWS's ByteControlSignalsLinux


class CommandsPlugin:
    def __init__(self, config: SessionConfig, output: Output, users: SessionUsers) -> None:
        self._config = config
        self._output = output
        self._users = users
        self._process: asyncio.subprocess.Process | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._shell = ShellProperties()

    async def start(self) -> None:
        try:
            self._shell = shell = self._config.shell
            if not shell.commands.strip():
                raise InvalidSession("Commands cannot be empty for session type NonInteractiveCommands")
            if shell.separate_output:
                shell.check_prefixes()
        except InvalidSession as err:
            raise SessionFailed(str(err)) from err
        try:
            try:
                argv = shlex.split(shell.commands)
            except ValueError as err:
                raise InvalidSession(f"Failed to parse commands input: {err}\n") from err
            identity = self._users.identity(self._config, shell.run_as_elevated)
        except InvalidSession as err:
            await self._output.send(PayloadType.STDERR, f"Unable to start command: {err}\n".encode())
            raise SessionFailed(f"Unable to start command: {err}\n") from err
        env = session_environment(identity, elevated=shell.run_as_elevated)
        try:
            process = await start_piped(argv, identity, env, separate_stderr=shell.separate_output)
        except (OSError, subprocess.SubprocessError) as err:
            if shell.separate_output:
                await self._send_exit_code(ERROR_EXIT_CODE)
            await self._output.send(PayloadType.STDERR, str(err).encode())
            raise SessionFailed(f"Error occurred starting the command: {err}\n") from err
        self._process = process
        assert process.stdout is not None
        if shell.separate_output:
            assert process.stderr is not None
            self._pumps = [asyncio.create_task(self._send(process.stdout, PayloadType.OUTPUT, shell.stdout_prefix)),
                           asyncio.create_task(self._send(process.stderr, PayloadType.STDERR, shell.stderr_prefix))]
        else:
            self._pumps = [asyncio.create_task(self._send(process.stdout, PayloadType.OUTPUT, ""))]

    async def _send(self, stream: asyncio.StreamReader, payload_type: PayloadType, prefix: str) -> None:
        marker, characters, line_start = prefix.encode(), WholeCharacters(), True
        while chunk := await stream.read(MAX_PAYLOAD - len(marker) - characters.held):
            data = characters.take(chunk)
            if line_start and marker:
                data = marker + data
            line_start = chunk.endswith(b"\n")
            await self._output.send(payload_type, data)
        await self._output.send(payload_type, characters.rest())

    async def _send_exit_code(self, code: int) -> None:
        await self._output.send(PayloadType.EXIT_CODE, f"EXIT_CODE: {code}".encode())

    async def input(self, payload_type: PayloadType, payload: bytes) -> None:
        if payload_type != PayloadType.OUTPUT or self._process is None:
            return  # a terminal size means nothing without a terminal
        for byte in payload:
            if byte in CONTROL_SIGNALS:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self._process.pid, CONTROL_SIGNALS[byte])
                return

    async def wait(self) -> PluginResult:
        assert self._process is not None
        results = await asyncio.gather(*self._pumps, return_exceptions=True)
        code = await self._process.wait()
        code = 128 - code if code < 0 else code  # killed by a signal: the shell's convention
        log.info("session %s: command exited with %d", self._config.session_id, code)
        if self._shell.separate_output:
            await self._send_exit_code(code)
        failed = [r for r in results if isinstance(r, BaseException)]
        return PluginResult(FinalStatus.FAILED if failed else FinalStatus.SUCCESS)

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        kill_tree(process.pid)
        for pump in self._pumps:
            pump.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 5)
