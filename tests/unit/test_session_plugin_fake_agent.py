"""Stand-ins for the far end of a plugin run, on real local sockets: `FakeAgent` plays the relay and the agent
(a WebSocket server around one DataChannelEndpoint(Role.AGENT) that outlives its sockets, so a dropped socket
can be resumed), `FakeSsm` answers ssm's JSON API (StartSession, ResumeSession) over HTTP, and `Captured`
collects what the plugin prints. The other test_session_plugin_* modules use them; the few tests here check
the stand-ins themselves."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import shutil
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection
from websockets.exceptions import ConnectionClosed

from openssm.cli.session_client import Console, PluginSession, SessionStart
from openssm.protocol.agent_message import AgentMessage, PayloadType
from openssm.protocol.data_channel import (
    HandshakeComplete,
    HandshakeRequest,
    MessageType,
    OpenDataChannel,
    SessionType,
)
from openssm.protocol.data_channel_endpoint import (
    DataChannelEndpoint,
    HandshakeResponded,
    Role,
    StreamData,
)

PLUGIN = shutil.which("session-manager-plugin") or os.path.join(os.path.dirname(sys.executable),
                                                                 "session-manager-plugin")
SESSION_ID = "s-1"
TARGET = "mi-0123456789abcdef0"


@dataclass
class FakeAgent:
    session_type: SessionType
    properties: dict[str, Any] = field(default_factory=dict)
    agent_version: str = "3.3.987.0"
    tokens: set[str] = field(default_factory=lambda: {"tok"})
    on_data: Callable[[StreamData], Awaitable[None]] | None = None
    on_ready: Callable[[], Awaitable[None]] | None = None
    ignore_acks: bool = False  # as if the plugin's acknowledgements were lost on the way
    endpoint: DataChannelEndpoint = field(default_factory=lambda: DataChannelEndpoint(Role.AGENT))
    url: str = ""
    opened: list[tuple[str, OpenDataChannel]] = field(default_factory=list)  # (request path, open frame)
    received: list[StreamData] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _socket: ServerConnection | None = None
    _handshake_sent: bool = False

    async def handle(self, socket: ServerConnection) -> None:
        opened = OpenDataChannel.decode(str(await socket.recv()))
        self.opened.append((socket.request.path if socket.request else "", opened))
        if opened.token not in self.tokens:
            await socket.close(1008, "bad token")
            return
        self._socket = socket
        if not self._handshake_sent:
            self._handshake_sent = True
            await self.send_handshake(HandshakeRequest(self.agent_version, self.session_type, self.properties))
        resender = asyncio.create_task(self._resend())
        try:
            async for frame in socket:
                await self._receive(bytes(frame) if not isinstance(frame, str) else b"")
        except ConnectionClosed:
            pass
        finally:
            resender.cancel()
            if self._socket is socket:
                self._socket = None

    async def _receive(self, frame: bytes) -> None:
        if not frame:
            return
        if self.ignore_acks and AgentMessage.decode(frame).message_type == MessageType.ACKNOWLEDGE:
            return
        loop = asyncio.get_running_loop()
        events, acks = self.endpoint.receive(frame, loop.time())
        for ack in acks:
            await self._transmit(ack)
        for event in events:
            if isinstance(event, HandshakeResponded):
                await self.send_handshake(HandshakeComplete(dt.timedelta(milliseconds=1), ""))
                self.ready.set()
                if self.on_ready:
                    await self.on_ready()
            elif isinstance(event, StreamData):
                self.received.append(event)
                if self.on_data:
                    await self.on_data(event)

    async def _resend(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.05)
            for frame in self.endpoint.due(loop.time()):
                await self._transmit(frame)

    async def _transmit(self, frame: bytes) -> None:
        if self._socket is not None:
            try:
                await self._socket.send(frame)
            except ConnectionClosed:
                pass

    async def send_handshake(self, message: HandshakeRequest | HandshakeComplete) -> None:
        for frame in self.endpoint.send_handshake(message, asyncio.get_running_loop().time()):
            await self._transmit(frame)

    async def send(self, payload_type: PayloadType, payload: bytes) -> None:
        for frame in self.endpoint.send(payload_type, payload, asyncio.get_running_loop().time()):
            await self._transmit(frame)

    async def close_channel(self, output: str = "") -> None:
        await self._transmit(self.endpoint.close(SESSION_ID, TARGET, output, asyncio.get_running_loop().time()))

    def drop(self) -> None:
        """The WebSocket dies without a close frame or channel_closed (a network cut)."""
        assert self._socket is not None
        self._socket.transport.abort()
        self._socket = None

    def input_bytes(self, payload_type: PayloadType = PayloadType.OUTPUT) -> bytes:
        return b"".join(e.payload for e in self.received if e.payload_type == payload_type)


async def serve(agent: FakeAgent) -> tuple[Server, str]:
    server = await websockets.serve(agent.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1] if server.sockets else 0
    agent.url = f"ws://127.0.0.1:{port}/v1/data-channel/{SESSION_ID}?role=publish_subscribe"
    return server, agent.url


@dataclass
class PluginRun:
    """The plugin's console during a run: what it printed, and the write end of its stdin."""

    stdout: Captured
    stderr: Captured
    stdin: int

    def type(self, data: bytes) -> None:
        os.write(self.stdin, data)


async def run_plugin(agent: FakeAgent, scenario: Callable[[PluginRun], Awaitable[None]], *,
                     parameters: dict[str, Any] | None = None, close_at_end: bool = True,
                     **options: Any) -> tuple[int, PluginRun]:
    """Run the plugin in this process against `agent` while `scenario` plays; its exit status and console.
    `options` go to PluginSession (choose, resumer, retry)."""
    server, url = await serve(agent)
    read_end, write_end = os.pipe()
    run = PluginRun(Captured(), Captured(), write_end)
    plugin = PluginSession(SessionStart(SESSION_ID, "tok", url, TARGET, parameters or {}),
                           console=Console(run.stdout, run.stderr, read_end), handle_signals=False, **options)
    try:
        async with server:
            session = asyncio.create_task(plugin.run())
            await scenario(run)
            if close_at_end:
                await agent.close_channel()
            code = await asyncio.wait_for(session, 20)
    finally:
        os.close(write_end)
        os.close(read_end)
    return code, run


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(wait(), timeout)


class FakeSsm:
    """ssm's JSON 1.1 API on a local port: each X-Amz-Target answered by `answers[action](request)`."""

    def __init__(self, answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                action = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                fake.calls.append((action, request))
                body = json.dumps(fake.answers[action](request)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSsm:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Captured(io.BytesIO):
    """A stdout or stderr for the plugin that tests can wait on."""

    async def wait_for(self, text: bytes, timeout: float = 10.0) -> bytes:
        async def poll() -> bytes:
            while text not in self.getvalue():
                await asyncio.sleep(0.01)
            return self.getvalue()
        return await asyncio.wait_for(poll(), timeout)


def credentials(monkeypatch: Any) -> None:
    """Static credentials for botocore, and no config file from the machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_the_fake_ssm_answers_botocore_as_ssm(monkeypatch: Any) -> None:
    import botocore.session

    credentials(monkeypatch)
    answer = {"SessionId": SESSION_ID, "TokenValue": "t", "StreamUrl": "ws://x"}
    with FakeSsm({"ResumeSession": lambda request: answer}) as ssm:
        client = botocore.session.Session().create_client("ssm", region_name="us-east-1", endpoint_url=ssm.url)
        got = client.resume_session(SessionId=SESSION_ID)
    assert got["TokenValue"] == "t" and ssm.calls == [("ResumeSession", {"SessionId": SESSION_ID})]
