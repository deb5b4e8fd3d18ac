"""One plugin run, as AWS's session-manager-plugin runs it: announce the session, open the data channel,
answer the handshake, start the kind of session the agent asked for once the handshake completes, and end on
channel_closed with AWS's closing line (or when the session kind ends it, as a port session's stdin does)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openssm.cli.session_client.channel import ChannelLost, DataChannelClient, SessionTimedOut
from openssm.cli.session_client.console import Console
from openssm.cli.session_client.context import (
    TCP_MULTIPLEXING_AFTER,
    SessionContext,
    SessionHandler,
    agent_version_after,
)
from openssm.cli.session_client.port_mux import MuxPortForwarding
from openssm.cli.session_client.ports import (
    LOCAL_PORT_FORWARDING,
    BasicPortForwarding,
    PortParameters,
    StandardStreamForwarding,
)
from openssm.cli.session_client.resume import Resumer, RetryPolicy
from openssm.cli.session_client.shell import ShellSession
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import HandshakeRequest, HandshakeResponse, SessionType
from openssm.protocol.data_channel_endpoint import (
    Closed,
    Event,
    HandshakeCompleted,
    HandshakeRequested,
    StreamData,
)

VERSION = "1.2.804.0"  # the AWS plugin version whose protocol this speaks (the aws CLI warns below 1.2.764.0)


@dataclass(frozen=True)
class SessionStart:
    """What a plugin run needs: StartSession's answer, the request's target and parameters, and where to
    resume (the region, profile and endpoint the aws CLI passed)."""

    session_id: str
    token: str
    stream_url: str
    target: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    region: str = ""
    profile: str = ""
    endpoint_url: str | None = None


def handler_for(request: HandshakeRequest, ctx: SessionContext) -> SessionHandler:
    """The session kind AWS's plugin would run for this handshake (portsession.go's Initialize)."""
    if request.session_type is not SessionType.PORT:
        return ShellSession(ctx, request.session_type)
    params = PortParameters.of(request.properties, ctx.parameters)
    if params.type == LOCAL_PORT_FORWARDING:
        if agent_version_after(ctx.agent_version, TCP_MULTIPLEXING_AFTER):
            return MuxPortForwarding(ctx, params)
        return BasicPortForwarding(ctx, params)
    if params.has_local_port:  # an older Port document without `type` that still names a local port
        return BasicPortForwarding(ctx, params)
    return StandardStreamForwarding(ctx)


class PluginSession:
    """A session's client end in this process. `console` defaults to the process's own terminal; without a
    `resumer` a dropped WebSocket ends the run; `choose` picks the session kind (tests give theirs)."""

    def __init__(self, start: SessionStart, *, console: Console | None = None, resumer: Resumer | None = None,
                 handle_signals: bool = True, retry: Callable[[], RetryPolicy] = RetryPolicy.aws,
                 choose: Callable[[HandshakeRequest, SessionContext], SessionHandler] = handler_for) -> None:
        self.start = start
        self.console = console or Console()
        self.channel = DataChannelClient(start.session_id, start.token, start.stream_url, VERSION,
                                         resumer=resumer, retry=retry)
        self.handler: SessionHandler | None = None
        self._handle_signals = handle_signals
        self._choose = choose
        self._request: HandshakeRequest | None = None
        self._early: list[StreamData] = []
        self._done: asyncio.Future[int] | None = None

    async def run(self) -> int:
        """The plugin's exit status."""
        sid = self.start.session_id
        self.console.out(f"\nStarting session with SessionId: {sid}\n")
        self._done = asyncio.get_running_loop().create_future()
        channel = asyncio.create_task(self.channel.run(self._on_event))
        try:
            either: list[asyncio.Future[Any]] = [channel, self._done]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if self._done.done():
                return self._done.result()
            channel.result()
            return 0
        except SessionTimedOut:
            self.console.out(f"Session: {sid} timed out.\n")
            return 0
        except ChannelLost as err:
            self.console.err(f"\nSessionId: {sid} : {err}\n")
            return 1
        except BrokenPipeError:
            return 0  # whoever read our output (ssh, as a ProxyCommand) has gone: the session is over for us
        finally:
            if self.handler is not None:
                await self.handler.stop()
            channel.cancel()
            with contextlib.suppress(asyncio.CancelledError, ChannelLost, SessionTimedOut, BrokenPipeError):
                await channel

    def _context(self, request: HandshakeRequest | None) -> SessionContext:
        assert self._done is not None
        return SessionContext(self.start.session_id, self.channel, self.console, self._done,
                              request.agent_version if request else "",
                              request.properties if request else {}, self.start.parameters, self._handle_signals)

    async def _on_event(self, event: Event) -> None:
        if isinstance(event, HandshakeRequested):
            self._request = event.request
            self.channel.established = True
            await self.channel.send(PayloadType.HANDSHAKE_RESPONSE, HandshakeResponse(VERSION).encode())
        elif isinstance(event, HandshakeCompleted):
            if event.complete.customer_message:
                self.console.out(event.complete.customer_message + "\n")
            if self._request is not None and self.handler is None:
                await self._begin(self._choose(self._request, self._context(self._request)))
        elif isinstance(event, StreamData):
            await self._deliver(event)
        elif isinstance(event, Closed):
            self._closed(event)

    async def _deliver(self, data: StreamData) -> None:
        if self.handler is not None:
            await self.handler.receive(data)
        elif self._request is None and data.payload_type == PayloadType.OUTPUT:
            # An agent without the handshake: AWS's plugin takes its first output for a shell session.
            self.channel.established = True
            await self._begin(ShellSession(self._context(None), SessionType.STANDARD_STREAM))
            await self._deliver(data)
        else:
            self._early.append(data)

    async def _begin(self, handler: SessionHandler) -> None:
        try:
            await handler.start()
        except (OSError, ValueError) as err:
            self.console.out(f"Cannot perform start session: {err}\n")
            assert self._done is not None
            if not self._done.done():
                self._done.set_result(1)
            return
        self.handler = handler
        early, self._early = self._early, []
        for data in early:
            await handler.receive(data)

    def _closed(self, event: Closed) -> None:
        sid = self.start.session_id
        if event.closed.output:
            self.console.out(f"\n\nSessionId: {sid} : {event.closed.output}\n\n")
        else:
            self.console.out(f"\n\nExiting session with sessionId: {sid}.\n\n")
        assert self._done is not None
        if not self._done.done():
            self._done.set_result(self.handler.exit_code if self.handler is not None else 0)
