"""Shell and command sessions (Standard_Stream, InteractiveCommands, NonInteractiveCommands): keystrokes go
out in ≤ 1024-byte chunks with the terminal's size (and each resize); output goes to stdout, the agent's
separate error stream (PayloadType 11) to stderr, and its exit code (12, "EXIT_CODE: N") becomes the plugin's
exit status."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal

from openssm.cli.session_client.context import CONTROL_SIGNALS, SessionContext
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import SessionType
from openssm.protocol.data_channel_endpoint import StreamData

# AWS's plugin turns these signals into the bytes a terminal would have sent (sessionutil/control_signals_unix.go)
SIGNAL_BYTES = {signal.SIGINT: b"\x03", signal.SIGQUIT: b"\x1c", signal.SIGTSTP: b"\x1a"}
_EXIT_CODE = re.compile(rb"-?\d+")


def exit_code(payload: bytes) -> int | None:
    """The status in an EXIT_CODE payload ("EXIT_CODE: 3", as AWS's agent sends it, or a bare number)."""
    found = _EXIT_CODE.search(payload)
    return int(found.group()) if found else None


class ShellSession:
    def __init__(self, ctx: SessionContext, session_type: SessionType) -> None:
        self.ctx = ctx
        self.session_type = session_type
        self.exit_code = 0
        self._cleanup = contextlib.ExitStack()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        console = self.ctx.console
        self._cleanup.enter_context(console.raw_terminal())
        await self._send_size()
        loop = asyncio.get_running_loop()
        self._cleanup.callback(self.ctx.on_signals(
            (signal.SIGWINCH,), lambda _: self._tasks.append(loop.create_task(self._send_size()))))
        self._cleanup.callback(self.ctx.on_signals(
            CONTROL_SIGNALS, lambda sig: self._tasks.append(loop.create_task(self._send_signal(sig)))))
        self._tasks.append(loop.create_task(self._pump_stdin()))

    async def receive(self, data: StreamData) -> None:
        if data.payload_type == PayloadType.OUTPUT:
            self.ctx.console.out(data.payload)
        elif data.payload_type == PayloadType.STDERR:
            self.ctx.console.err(data.payload)
        elif data.payload_type == PayloadType.EXIT_CODE:
            code = exit_code(data.payload)
            if code is not None:
                self.exit_code = code

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._cleanup.close()

    async def _send_size(self) -> None:
        cols, rows = self.ctx.console.terminal_size()
        await self.ctx.send(PayloadType.SIZE, json.dumps({"cols": cols, "rows": rows}, separators=(",", ":")).encode())

    async def _send_signal(self, sig: signal.Signals) -> None:
        await self.ctx.send(PayloadType.OUTPUT, SIGNAL_BYTES[sig])

    async def _pump_stdin(self) -> None:
        # At the end of stdin the session goes on until the agent closes it, so piped commands get their output.
        async for chunk in self.ctx.console.stdin_chunks():
            # As AWS's plugin: a lone newline is sent as the Enter key (carriage return).
            await self.ctx.send(PayloadType.OUTPUT, b"\r" if chunk == b"\n" else chunk)
