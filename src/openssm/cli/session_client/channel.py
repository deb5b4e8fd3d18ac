"""The plugin's WebSocket to the data channel: opens it with the StartSession token, feeds every frame to one
DataChannelEndpoint (which acknowledges, orders and resends), and when the socket drops without a
channel_closed, resumes the session (ResumeSession, then the new stream URL and token) with AWS's retries.
The endpoint outlives the sockets, so nothing is lost or delivered twice across a reconnect."""

from __future__ import annotations

import asyncio
import os
import ssl
import uuid
from collections.abc import Awaitable, Callable, Iterator

import websockets
from botocore.exceptions import BotoCoreError, ClientError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from openssm.cli.session_client.resume import Resumer, RetryPolicy
from openssm.protocol.agent_message import AgentMessageError, PayloadType
from openssm.protocol.data_channel import OpenDataChannel
from openssm.protocol.data_channel_endpoint import Closed, DataChannelEndpoint, Event, Role

RESEND_EVERY = 0.1  # AWS's ResendSleepInterval
MAX_UNACKNOWLEDGED = 256  # messages in flight before local readers wait (up to 16 MB of a port's bytes)
_FAILURES = (OSError, TimeoutError, WebSocketException, BotoCoreError, ClientError)

EventHandler = Callable[[Event], Awaitable[None]]


class ChannelLost(Exception):
    """The data channel could not be opened, or dropped and could not be resumed."""


class SessionTimedOut(Exception):
    """ResumeSession answered without a token: the session ended while the channel was down."""


class DataChannelClient:
    def __init__(self, session_id: str, token: str, stream_url: str, client_version: str, *,
                 resumer: Resumer | None = None, retry: Callable[[], RetryPolicy] = RetryPolicy.aws) -> None:
        self.session_id = session_id
        self.token = token
        self.stream_url = stream_url
        self.client_version = client_version
        self.client_id = str(uuid.uuid4())  # one per plugin run, kept across reconnects as AWS's plugin does
        self.endpoint = DataChannelEndpoint(Role.CLIENT)
        self.established = False  # a handshake arrived: from then on a dropped socket is resumed
        self._resumer = resumer
        self._retry = retry
        self._socket: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._writable = asyncio.Event()
        self._writable.set()
        self._heard_since_connect = False

    # -- sending ------------------------------------------------------------------------------------------
    async def send(self, payload_type: PayloadType, payload: bytes) -> None:
        """Numbered, kept until acknowledged; while the socket is down it waits for the reconnect's resend."""
        for frame in self.endpoint.send(payload_type, payload, asyncio.get_running_loop().time()):
            await self._transmit(frame)

    async def wait_writable(self) -> None:
        """Back-pressure for local readers: wait while too much is unacknowledged."""
        while self.endpoint.unacknowledged >= MAX_UNACKNOWLEDGED:
            self._writable.clear()
            await self._writable.wait()

    async def drain(self, timeout: float) -> None:
        """Wait (at most `timeout`) until everything sent has been acknowledged."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.endpoint.unacknowledged and loop.time() < deadline:
            await asyncio.sleep(RESEND_EVERY / 2)

    async def _transmit(self, frame: bytes) -> None:
        async with self._send_lock:
            if self._socket is None:
                return
            try:
                await self._socket.send(frame)
            except ConnectionClosed:
                pass  # the endpoint keeps it; it goes again once the channel is back

    async def _resend(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(RESEND_EVERY)
            for frame in self.endpoint.due(loop.time()):
                await self._transmit(frame)

    # -- the socket's life --------------------------------------------------------------------------------
    async def run(self, on_event: EventHandler) -> None:
        """Deliver events until channel_closed. Raises ChannelLost or SessionTimedOut."""
        await self._with_retries(lambda: self._connect(self.stream_url, self.token), self._retry().delays(),
                                 "cannot open the data channel")
        resender = asyncio.create_task(self._resend())
        delays = self._retry().delays()
        try:
            while True:
                reason = await self._pump(on_event)
                if reason is None:
                    return
                if not self.established or self._resumer is None:
                    raise ChannelLost(f"the data channel was closed: {reason}")
                if self._heard_since_connect:  # a socket that never carried a frame does not earn new retries
                    delays = self._retry().delays()
                await self._with_retries(self._resume, delays, "the data channel could not be resumed")
        finally:
            resender.cancel()
            self._abort()

    async def _connect(self, url: str, token: str) -> None:
        context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE")) \
            if url.startswith("wss") else None
        socket = await websockets.connect(url, ssl=context, max_size=None)
        try:
            await socket.send(OpenDataChannel(token, self.client_id, self.client_version).encode())
        except BaseException:
            socket.transport.abort()
            raise
        self._socket, self._heard_since_connect = socket, False

    async def _resume(self) -> None:
        assert self._resumer is not None
        resumed = await self._resumer.resume(self.session_id)
        if not resumed.token:
            raise SessionTimedOut(self.session_id)
        self.token, self.stream_url = resumed.token, resumed.stream_url or self.stream_url
        await self._connect(self.stream_url, self.token)

    @staticmethod
    async def _with_retries(attempt: Callable[[], Awaitable[None]], delays: Iterator[float], failure: str) -> None:
        while True:
            try:
                await attempt()
                return
            except _FAILURES as err:
                error = err
            delay = next(delays, None)
            if delay is None:
                raise ChannelLost(f"{failure}: {error}") from error
            await asyncio.sleep(delay)

    async def _pump(self, on_event: EventHandler) -> str | None:
        """Read the socket until it closes; None once channel_closed arrived, else why it closed."""
        socket = self._socket
        assert socket is not None
        loop = asyncio.get_running_loop()
        try:
            async for frame in socket:
                if isinstance(frame, str):
                    continue
                self._heard_since_connect = True
                try:
                    events, replies = self.endpoint.receive(frame, loop.time())
                except AgentMessageError:
                    continue  # AWS's plugin logs and drops what it cannot read
                for reply in replies:
                    await self._transmit(reply)
                if self.endpoint.unacknowledged < MAX_UNACKNOWLEDGED:
                    self._writable.set()
                for event in events:
                    await on_event(event)
                    if isinstance(event, Closed):
                        return None
        except ConnectionClosed:
            pass
        async with self._send_lock:
            self._socket = None
        return socket.close_reason or "no reason given"

    def _abort(self) -> None:
        # As AWS's plugin, which exits without a WebSocket close frame.
        if self._socket is not None:
            self._socket.transport.abort()
            self._socket = None
