"""The agent's end of a session's data channel, as AWS's agent holds it (agent/session/datachannel): `POST
/v1/data-channel/<sessionId>` (SigV4, ssmmessages) for a token, a signed WebSocket upgrade with
`role=publish_subscribe`, the OpenDataChannelInput frame, then AgentMessages driven through a
DataChannelEndpoint (acknowledged, ordered, resent). A dropped WebSocket is reopened with a new token and the
same endpoint, so nothing unacknowledged is lost and nothing delivered is delivered twice."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import re
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import websockets

from openssm.agent import sigv4
from openssm.agent.client import CallFailed, Request, RoleCredentials, SsmClient
from openssm.protocol.agent_data_channel import (
    AgentSessionState,
    OpenAgentDataChannel,
    SessionState,
    create_data_channel_body,
    flag_payload,
    token_of,
)
from openssm.protocol.agent_message import AgentMessageError, PayloadType
from openssm.protocol.data_channel import FlagValue, HandshakeComplete, HandshakeRequest
from openssm.protocol.data_channel_endpoint import Closed, DataChannelEndpoint, Event, Role

log = logging.getLogger(__name__)
PING_SECONDS = 54.0
RESEND_EVERY = 0.1  # AWS's ResendSleepInterval
MAX_IN_FLIGHT = 256  # unacknowledged messages before output waits (up to 16 MB of a port's bytes)
FIRST_ATTEMPTS = 5  # AWS's DataChannelNumMaxAttempts, 100–200 ms apart at first, doubling up to 5 s
RETRY_FIRST, RETRY_MAX = 0.1, 5.0
RECONNECT_WINDOW = 60.0


class Socket(Protocol):
    async def send(self, message: bytes | str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...

    def __aiter__(self) -> AsyncIterator[bytes | str]: ...


Connect = Callable[[], Awaitable[Socket]]


class DataChannelRefused(Exception):
    """The service will not open this session's data channel (it is over, or not this node's): no retry."""


@dataclass(frozen=True)
class ChannelLost:
    """The WebSocket dropped and could not be reopened."""

    reason: str


class MgsDataChannels:
    """Opens data channels at the service the agent is registered with, with the node's credentials."""

    def __init__(self, client: SsmClient, credentials: Callable[[], RoleCredentials], instance_id: str) -> None:
        self._client = client
        self._credentials = credentials
        self._instance_id = instance_id

    def connector(self, session_id: str, client_id: str) -> Connect:
        async def connect() -> Socket:
            return await self.open(session_id, client_id)
        return connect

    def _token(self, session_id: str, client_id: str) -> str:
        url = f"{self._client.endpoint}/v1/data-channel/{session_id}"
        request = self._client.signed(Request("POST", url, {"Content-Type": "application/json"},
                                              create_data_channel_body(client_id)),
                                      self._credentials(), "ssmmessages")
        try:
            answer = self._client.send(request)
        except CallFailed as err:
            if 400 <= err.status < 500:
                raise DataChannelRefused(str(err)) from err
            raise
        try:
            return token_of(str(answer.get("_body", "")))
        except AgentMessageError as err:
            raise ConnectionError(str(err)) from err

    def _upgrade_headers(self, url: str) -> dict[str, str]:
        """AWS's agent signs the upgrade too; the credentials may need refreshing, hence a thread."""
        signed = sigv4.sign("GET", url, {}, b"", self._credentials().signing(), self._client.region, "ssmmessages",
                            dt.datetime.now(dt.UTC))
        return {k: v for k, v in signed.items() if k != "Host"}  # the WebSocket client sends Host itself

    async def open(self, session_id: str, client_id: str) -> Socket:
        """A WebSocket on which the open frame has been sent."""
        token = await asyncio.to_thread(self._token, session_id, client_id)
        url = (re.sub(r"^http", "ws", self._client.endpoint) + f"/v1/data-channel/{session_id}"
               + "?role=publish_subscribe")
        headers = await asyncio.to_thread(self._upgrade_headers, url)
        context: ssl.SSLContext | None = self._client.ssl_context() if url.startswith("wss") else None
        try:
            ws = await websockets.connect(url, ssl=context, additional_headers=headers, max_size=None,
                                          ping_interval=PING_SECONDS, ping_timeout=30, open_timeout=30)
        except websockets.InvalidStatus as err:
            if 400 <= err.response.status_code < 500:
                raise DataChannelRefused(f"the data channel upgrade was refused: {err}") from err
            raise
        await ws.send(OpenAgentDataChannel(token, self._instance_id, client_id).encode())
        return ws


class AgentDataChannel:
    """One session's channel: events in order from `next_event()`, output through `send()`."""

    def __init__(self, session_id: str, connect: Connect, *, reconnect_window: float = RECONNECT_WINDOW,
                 max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.session_id = session_id
        self.endpoint = DataChannelEndpoint(Role.AGENT)
        self._connect = connect
        self._reconnect_window = reconnect_window
        self._max_in_flight = max_in_flight
        self._ws: Socket | None = None
        self._events: asyncio.Queue[Event | ChannelLost] = asyncio.Queue()
        self._progress = asyncio.Event()  # set whenever a frame arrives (an acknowledgement may free room)
        # The channel's end, seen at once even while the session is busy with earlier input.
        self.ended: asyncio.Future[Closed | ChannelLost] = asyncio.get_running_loop().create_future()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._loop = asyncio.get_running_loop()
        # Monotonic, yet epoch-based: the endpoint stamps messages' CreatedDate with it and times resends by it.
        self._epoch = time.time() - self._loop.time()

    def now(self) -> float:
        return self._epoch + self._loop.time()

    async def open(self) -> None:
        """Connect, retrying as AWS's agent does; raises the last error when every attempt failed."""
        delay = random.uniform(RETRY_FIRST, 2 * RETRY_FIRST)
        for attempt in range(1, FIRST_ATTEMPTS + 1):
            try:
                self._ws = await self._connect()
                break
            except DataChannelRefused:
                raise
            except Exception as err:
                if attempt == FIRST_ATTEMPTS:
                    raise
                log.info("data channel of %s not open yet (%s); retrying", self.session_id, err)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
        self._tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._resend())]

    # -- receiving ------------------------------------------------------------------------------------------
    async def next_event(self) -> Event | ChannelLost:
        return await self._events.get()

    async def _pump(self) -> None:
        service_closed = False
        while not self._closing:
            ws = self._ws
            if ws is None:
                return
            try:
                async for frame in ws:
                    if isinstance(frame, bytes):
                        service_closed = await self._receive(frame) or service_closed
            except websockets.ConnectionClosed:
                pass
            except OSError as err:
                log.info("data channel of %s failed: %s", self.session_id, err)
            if self._closing or service_closed:
                return
            log.info("data channel of %s dropped; reconnecting", self.session_id)
            reason = await self._reconnect()
            if reason:
                self._end(ChannelLost(reason))
                return

    async def _receive(self, frame: bytes) -> bool:
        """Hand the frame's events on; True when the service closed the channel."""
        try:
            events, replies = self.endpoint.receive(frame, self.now())
        except AgentMessageError as err:
            log.warning("dropped a data channel message of %s: %s", self.session_id, err)
            return False
        self._progress.set()
        for reply in replies:
            await self._send_raw(reply)
        for event in events:
            self._events.put_nowait(event)
            if isinstance(event, Closed):
                self._end(event)
        return any(isinstance(e, Closed) for e in events)

    def _end(self, how: Closed | ChannelLost) -> None:
        if isinstance(how, ChannelLost):
            self._events.put_nowait(how)
        if not self.ended.done():
            self.ended.set_result(how)

    async def _reconnect(self) -> str:
        """Reopen the channel; '' when done, else why it cannot be."""
        self._ws = None
        deadline = self._loop.time() + self._reconnect_window
        delay = random.uniform(RETRY_FIRST, 2 * RETRY_FIRST)
        while not self._closing:
            try:
                self._ws = await self._connect()
                log.info("data channel of %s reopened", self.session_id)
                return ""
            except DataChannelRefused as err:
                return str(err)
            except Exception as err:
                if self._loop.time() + delay > deadline:
                    return f"the data channel could not be reopened: {err}"
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
        return "closing"

    # -- sending --------------------------------------------------------------------------------------------
    async def _send_raw(self, frame: bytes) -> None:
        ws = self._ws
        if ws is None:
            return  # kept by the endpoint (or resent by the other end) until the channel is back
        try:
            await ws.send(frame)
        except (websockets.ConnectionClosed, OSError) as err:
            log.debug("data channel of %s: not sent now (%s)", self.session_id, err)

    async def _resend(self) -> None:
        while True:
            await asyncio.sleep(RESEND_EVERY)
            if self._ws is not None:
                for frame in self.endpoint.due(self.now()):
                    await self._send_raw(frame)

    async def send(self, payload_type: PayloadType, payload: bytes) -> None:
        """Send stream data (cut into ≤ 1024-byte messages); waits while too much is unacknowledged."""
        if not payload:
            return  # AWS's agent ignores empty stream data
        while self.endpoint.unacknowledged >= self._max_in_flight and not self._closing:
            self._progress.clear()
            await self._progress.wait()
        for frame in self.endpoint.send(payload_type, payload, self.now()):
            await self._send_raw(frame)

    async def send_flag(self, flag: FlagValue) -> None:
        await self.send(PayloadType.FLAG, flag_payload(flag))

    async def send_handshake(self, message: HandshakeRequest | HandshakeComplete) -> None:
        for frame in self.endpoint.send_handshake(message, self.now()):
            await self._send_raw(frame)

    async def send_state(self, state: SessionState) -> None:
        message = AgentSessionState(self.session_id, state).message(int(self.now() * 1000), uuid.uuid4())
        await self._send_raw(message.encode())

    async def drain(self, timeout: float) -> bool:
        """Wait (at most `timeout` s) until the other end has acknowledged everything sent."""
        try:
            async with asyncio.timeout(timeout):
                while self.endpoint.unacknowledged:
                    self._progress.clear()
                    await self._progress.wait()
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        self._closing = True
        self._progress.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await ws.close()
