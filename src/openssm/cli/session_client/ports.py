"""Port sessions without multiplexing, as AWS's plugin runs them (session/portsession/): a `type`-less session
(AWS-StartSSHSession) pipes stdin and stdout, which is what OpenSSH's ProxyCommand needs; basic port forwarding
listens on a local port and forwards one accepted connection at a time, telling the agent with a
DisconnectToPort flag when it ends."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from openssm.cli.session_client.console import STREAM_CHUNK
from openssm.cli.session_client.context import (
    CONTROL_SIGNALS,
    TERMINATE_SESSION_FLAG_AFTER,
    SessionContext,
    agent_version_after,
)
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue
from openssm.protocol.data_channel_endpoint import StreamData

LOCAL_PORT_FORWARDING = "LocalPortForwarding"
READ_SIZE = 64 * 1024
_DRAIN_AT_EOF = 1.0  # seconds to let the last input be acknowledged before the plugin exits

ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


@dataclass(frozen=True)
class PortParameters:
    """The agent's handshake Properties of a Port session (AWS's PortParameters); a local port missing there
    is taken from the StartSession request's parameters."""

    port_number: str = ""
    local_port_number: str = ""
    local_unix_socket: str = ""
    local_connection_type: str = ""
    type: str = ""

    @classmethod
    def of(cls, properties: Mapping[str, Any], parameters: Mapping[str, Any]) -> PortParameters:
        local = properties.get("localPortNumber")
        return cls(_text(properties.get("portNumber")),
                   _text(local if local is not None else parameters.get("localPortNumber")),
                   _text(properties.get("localUnixSocket")), _text(properties.get("localConnectionType")),
                   _text(properties.get("type")))

    @property
    def has_local_port(self) -> bool:
        return bool(self.local_port_number) or self.local_connection_type == "unix"


async def listen(params: PortParameters, session_id: str, handler: ConnectionHandler) -> tuple[asyncio.Server, str]:
    """The local listener and AWS's line announcing it ("Port N opened for sessionId X.")."""
    if params.local_connection_type == "unix":
        server = await asyncio.start_unix_server(handler, path=params.local_unix_socket)
        return server, f"Unix socket {params.local_unix_socket} opened for sessionId {session_id}."
    server = await asyncio.start_server(handler, "127.0.0.1", int(params.local_port_number or "0"))
    port = server.sockets[0].getsockname()[1]
    return server, f"Port {port} opened for sessionId {session_id}."


class LocalListener:
    """What both local port forwardings hold: the listener, the Ctrl-C handler, and the session's tasks."""

    def __init__(self, ctx: SessionContext, params: PortParameters) -> None:
        self._ctx = ctx
        self._params = params
        self.tasks: list[asyncio.Task[None]] = []
        self._server: asyncio.Server | None = None
        self._remove_signals: Callable[[], None] = lambda: None

    async def open(self, handler: ConnectionHandler, on_signal: Callable[[signal.Signals], None]) -> str:
        """Listen and take Ctrl-C; answers AWS's line announcing the listener."""
        self._server, announcement = await listen(self._params, self._ctx.session_id, handler)
        self._remove_signals = self._ctx.on_signals(CONTROL_SIGNALS, on_signal)
        return announcement

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(work))

    def close(self) -> None:
        self._remove_signals()
        for task in self.tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()


async def terminate(ctx: SessionContext) -> None:
    """Ctrl-C in a port session: AWS's plugin tells the agent (TerminateSession flag) and exits."""
    ctx.console.out("Terminate signal received, exiting.\n")
    await ctx.send_flag(FlagValue.TERMINATE_SESSION)
    ctx.console.out(f"\n\nExiting session with sessionId: {ctx.session_id}.\n\n")
    await ctx.channel.drain(_DRAIN_AT_EOF)
    ctx.finish(0)


class StandardStreamForwarding:
    """stdin to the agent, the agent to stdout; the end of stdin ends the session."""

    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self.exit_code = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._pump())

    async def receive(self, data: StreamData) -> None:
        if data.payload_type == PayloadType.OUTPUT:
            self.ctx.console.out(data.payload)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _pump(self) -> None:
        async for chunk in self.ctx.console.stdin_chunks(STREAM_CHUNK):
            await self.ctx.channel.wait_writable()
            await self.ctx.send(PayloadType.OUTPUT, chunk)
        await self.ctx.channel.drain(_DRAIN_AT_EOF)
        self.ctx.finish(0)


class BasicPortForwarding:
    """One local connection at a time (AWS's BasicPortForwarding, for agents without smux)."""

    def __init__(self, ctx: SessionContext, params: PortParameters) -> None:
        self.ctx = ctx
        self.params = params
        self.exit_code = 0
        self._waiting: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self._writer: asyncio.StreamWriter | None = None
        self._early: list[bytes] | None = []  # the agent's bytes before the first connection
        self._local = LocalListener(ctx, params)

    async def start(self) -> None:
        announcement = await self._local.open(self._queue, self._on_signal)
        self._local.run(self._serve())
        self.ctx.console.out(announcement + "\n")

    async def receive(self, data: StreamData) -> None:
        if data.payload_type != PayloadType.OUTPUT:
            return
        if self._writer is not None:
            self._writer.write(data.payload)
        elif self._early is not None:
            self._early.append(data.payload)

    async def stop(self) -> None:
        self._local.close()
        if self._writer is not None:
            self._writer.close()

    def _on_signal(self, _: signal.Signals) -> None:
        if agent_version_after(self.ctx.agent_version, TERMINATE_SESSION_FLAG_AFTER):
            self._local.run(terminate(self.ctx))
        else:  # older agents know no TerminateSession flag; AWS's plugin calls TerminateSession there
            self.ctx.console.out("Terminate signal received, exiting.\n")
            self.ctx.finish(0)

    async def _queue(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._waiting.put((reader, writer))

    async def _serve(self) -> None:
        first = True
        while True:
            reader, writer = await self._waiting.get()
            if first:
                self.ctx.console.out(f"Connection accepted for session {self.ctx.session_id}.\n")
                first = False
            self._writer = writer
            for early in self._early or ():
                writer.write(early)
            self._early = None
            with contextlib.suppress(OSError):
                while data := await reader.read(READ_SIZE):
                    await self.ctx.channel.wait_writable()
                    await self.ctx.send(PayloadType.OUTPUT, data)
            self._writer = None
            writer.close()
            # As AWS's plugin: the agent closes its connection to the port too, and opens one for the next.
            await self.ctx.send_flag(FlagValue.DISCONNECT_TO_PORT)
