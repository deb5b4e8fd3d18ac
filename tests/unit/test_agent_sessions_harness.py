"""A stand-in for the service's data-channel endpoints, playing the client's end itself (a
DataChannelEndpoint(Role.CLIENT) that answers the handshake as AWS's plugin does), for the agent's session
tests: it answers the agent's signed POST with a token, takes its WebSocket, and can drop it, lose frames or
close the session. The tests here check the agent's side of the opening against AWS's agent."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from openssm.agent.client import RoleCredentials, SsmClient
from openssm.agent.sessions.data_channel import MgsDataChannels
from openssm.agent.sessions.document import SessionConfig, session_config
from openssm.agent.sessions.runner import SessionOutcome, SessionRunner, SessionSettings
from openssm.agent.sessions.users import SessionUsers
from openssm.protocol import mgs
from openssm.protocol.agent_data_channel import flag_payload
from openssm.protocol.agent_message import AgentMessage, PayloadType
from openssm.protocol.data_channel import ChannelClosed, FlagValue, HandshakeResponse, MessageType
from openssm.protocol.data_channel_endpoint import (
    DataChannelEndpoint,
    Event,
    HandshakeCompleted,
    HandshakeRequested,
    Role,
    StreamData,
)
from openssm.protocol.session_tasks import SessionTask
from tests.support.server import free_port

INSTANCE_ID = "mi-0123456789abcdef0"
SESSION_ID = "alice-0123456789abcdef0"
CLIENT_VERSION = "1.2.804.0"
CREDENTIALS = RoleCredentials("ASIASESSIONTEST00001", "session/secret/key", "session-token",
                              dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))

SHELL_DOCUMENT: dict[str, Any] = {"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {}}
SSH_DOCUMENT: dict[str, Any] = {
    "schemaVersion": "1.0", "sessionType": "Port", "parameters": {"portNumber": {"type": "String", "default": "22"}},
    "properties": {"portNumber": "{{ portNumber }}"}}
FORWARDING_DOCUMENT: dict[str, Any] = {
    "schemaVersion": "1.0", "sessionType": "Port",
    "parameters": {"portNumber": {"type": "String", "default": "80"},
                   "localPortNumber": {"type": "String", "default": "0"}},
    "properties": {"portNumber": "{{ portNumber }}", "type": "LocalPortForwarding",
                   "localPortNumber": "{{ localPortNumber }}"}}


@dataclass
class FakeMgs:
    """The service's data channel for one session, with the client's end built in."""

    client_version: str = CLIENT_VERSION
    refuse: int = 0  # POSTs to answer 503 before answering with a token
    lose_outputs: set[int] = field(default_factory=set)  # agent stream messages (by arrival count) to lose
    drop_at_outputs: set[int] = field(default_factory=set)  # …on whose arrival the WebSocket is dropped
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    upgrades: list[dict[str, str]] = field(default_factory=list)
    opens: list[dict[str, Any]] = field(default_factory=list)
    from_agent: list[AgentMessage] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # what the client end received, in order
    control: list[AgentMessage] = field(default_factory=list)  # what the agent sent on its control channel
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.client = DataChannelEndpoint(Role.CLIENT)
        self._ws: WebSocket | None = None
        self._waiting: list[bytes] = []
        self._outputs = 0
        self._changed = asyncio.Event()
        self._control: WebSocket | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- the test's side --------------------------------------------------------------------------------
    def output(self, kind: PayloadType = PayloadType.OUTPUT) -> bytes:
        return b"".join(e.payload for e in self.events if isinstance(e, StreamData) and e.payload_type == kind)

    async def send(self, payload_type: PayloadType, payload: bytes) -> None:
        for frame in self.client.send(payload_type, payload, time.monotonic()):
            await self._to_agent(frame)

    async def type(self, text: str) -> None:
        await self.send(PayloadType.OUTPUT, text.encode())

    async def flag(self, flag: FlagValue) -> None:
        await self.send(PayloadType.FLAG, flag_payload(flag))

    async def close_session(self, output: str = "") -> None:
        await self._to_agent(ChannelClosed(SESSION_ID, INSTANCE_ID, output).message(int(time.time() * 1000)).encode())

    async def drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close(1011)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await self._changed.wait()

    def handshake_request(self) -> HandshakeRequested:
        return next(e for e in self.events if isinstance(e, HandshakeRequested))

    def handshake_complete(self) -> HandshakeCompleted:
        return next(e for e in self.events if isinstance(e, HandshakeCompleted))

    async def to_control_channel(self, message: AgentMessage) -> None:
        await self.wait_for(lambda: self._control is not None)
        assert self._control is not None
        await self._control.send_bytes(message.encode())

    def of_type(self, kind: str) -> list[AgentMessage]:
        return [m for m in self.control if m.message_type == kind]

    # -- the service's side ------------------------------------------------------------------------------
    async def _create_control(self, request: Request) -> Response:
        return Response(mgs.create_channel_response("control-token"), status_code=201, media_type="application/xml")

    async def _control_channel(self, websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        self._control = websocket
        try:
            while True:
                self.control.append(AgentMessage.decode(await websocket.receive_bytes()))
                self._changed.set()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self._control = None

    async def _to_agent(self, frame: bytes) -> None:
        if self._ws is None:
            self._waiting.append(frame)
            return
        try:
            await self._ws.send_bytes(frame)
        except Exception:
            self._waiting.append(frame)

    async def _create(self, request: Request) -> Response:
        self.posts.append(({k.lower(): v for k, v in request.headers.items()}, await request.body()))
        if self.refuse > 0:
            self.refuse -= 1
            return Response('{"message":"unavailable"}', status_code=503, media_type="application/json")
        token = f"data-token-{len(self.posts)}"
        return Response(mgs.create_channel_response(token), status_code=201, media_type="application/xml")

    async def _channel(self, websocket: WebSocket) -> None:
        self.upgrades.append({k.lower(): v for k, v in websocket.headers.items()} | {"query": websocket.url.query})
        await websocket.accept()
        self.opens.append(json.loads(await websocket.receive_text()))
        self._ws = websocket
        waiting, self._waiting = self._waiting, []
        for frame in waiting:
            await self._to_agent(frame)
        try:
            while True:
                await self._receive(websocket, await websocket.receive_bytes())
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            if self._ws is websocket:
                self._ws = None

    async def _receive(self, websocket: WebSocket, frame: bytes) -> None:
        message = AgentMessage.decode(frame)
        self.from_agent.append(message)
        if message.message_type == MessageType.OUTPUT:
            self._outputs += 1
            if self._outputs in self.drop_at_outputs:
                await self.drop()
                return
            if self._outputs in self.lose_outputs:
                return
        events, replies = self.client.receive(frame, time.monotonic())
        for reply in replies:
            await self._to_agent(reply)
        for event in events:
            self.events.append(event)
            if isinstance(event, HandshakeRequested):
                await self.send(PayloadType.HANDSHAKE_RESPONSE, HandshakeResponse(self.client_version).encode())
        self._changed.set()

    async def _resend(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            for frame in self.client.due(time.monotonic()):
                await self._to_agent(frame)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeMgs]:
        app = Starlette(routes=[Route("/v1/data-channel/{session_id}", self._create, methods=["POST"]),
                                WebSocketRoute("/v1/data-channel/{session_id}", self._channel),
                                Route("/v1/control-channel/{instance_id}", self._create_control, methods=["POST"]),
                                WebSocketRoute("/v1/control-channel/{instance_id}", self._control_channel)])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                               lifespan="off", ws="websockets-sansio", timeout_graceful_shutdown=2))
        serving = asyncio.create_task(server.serve())
        resender = asyncio.create_task(self._resend())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            yield self
        finally:
            resender.cancel()
            server.should_exit = True
            await serving


def task(document: Mapping[str, Any], parameters: Mapping[str, Any] | None = None, run_as_user: str = "",
         name: str = "SSM-SessionManagerRunShell") -> SessionTask:
    return SessionTask(SESSION_ID, name, document, parameters or {}, run_as_user, "arn:aws:iam::123456789012:user/alice")


def runner(fake: FakeMgs, session: SessionTask, *, config: SessionConfig | None = None,
           settings: SessionSettings | None = None, users: SessionUsers | None = None) -> SessionRunner:
    """The agent's runner for `session`, opening its data channel at `fake`, running as the test's own user."""
    channels = MgsDataChannels(SsmClient(fake.endpoint, "us-east-1"), lambda: CREDENTIALS, INSTANCE_ID)
    return SessionRunner(session, channels.connector(session.session_id, "5c1ef6a4-2b27-4b4e-9d7e-0d7c7c1f3b11"),
                         agent_version="3.3.0.0", users=users or SessionUsers(is_root=lambda: False),
                         settings=settings, config=config)


def with_timeouts(session: SessionTask, idle: float = 60.0, longest: float | None = None) -> SessionConfig:
    """The task's configuration with its idle timeout and maximum duration in seconds (for fast tests)."""
    config = session_config(session)
    return SessionConfig(config.session_id, config.session_type, config.properties, config.shell_profile,
                         dt.timedelta(seconds=idle), dt.timedelta(seconds=longest) if longest else None,
                         config.run_as_enabled, config.run_as_user, config.session_owner)


async def started(fake: FakeMgs, run: SessionRunner) -> asyncio.Task[SessionOutcome]:
    """The session running, its handshake complete."""
    outcome = asyncio.create_task(run.run())
    await fake.wait_for(lambda: any(isinstance(e, HandshakeCompleted) for e in fake.events) or outcome.done())
    return outcome


# -- the opening, checked against AWS's agent ---------------------------------------------------------
def test_the_agent_opens_the_data_channel_as_awss_agent_does() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            (headers, body), upgrade, opened = fake.posts[0], fake.upgrades[0], fake.opens[0]
            assert headers["content-type"] == "application/json"
            assert "/ssmmessages/aws4_request" in headers["authorization"]
            assert headers["x-amz-security-token"] == "session-token"
            created = json.loads(body)
            assert list(created) == ["MessageSchemaVersion", "RequestId", "ClientId"]
            assert created["ClientId"] == "5c1ef6a4-2b27-4b4e-9d7e-0d7c7c1f3b11"
            assert upgrade["query"] == "role=publish_subscribe"
            assert "/ssmmessages/aws4_request" in upgrade["authorization"]
            assert list(opened) == ["MessageSchemaVersion", "RequestId", "TokenValue", "ClientInstanceId", "ClientId"]
            assert (opened["TokenValue"], opened["ClientInstanceId"], opened["ClientId"]) == (
                "data-token-1", INSTANCE_ID, created["ClientId"])
            states = [json.loads(m.payload) for m in fake.from_agent if m.message_type == "agent_session_state"]
            assert states[0] == {"SchemaVersion": 1, "SessionState": "Connected", "SessionId": SESSION_ID}
            await fake.type("exit\n")
            assert (await outcome).status == "Success"

    asyncio.run(scenario())


def test_the_handshake_names_the_session_type_and_completes_with_no_customer_message() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            request = fake.handshake_request().request
            assert (request.agent_version, request.session_type.value, dict(request.properties)) == (
                "3.3.0.0", "Standard_Stream", {})
            first = next(m for m in fake.from_agent if m.message_type == "output_stream_data")
            assert (first.sequence_number, first.flags, first.payload_type) == (0, 1, PayloadType.HANDSHAKE_REQUEST)
            assert fake.handshake_complete().complete.customer_message == ""
            await fake.type("exit\n")
            await outcome

    asyncio.run(scenario())


def test_a_service_that_is_briefly_unavailable_is_retried() -> None:
    async def scenario() -> None:
        async with FakeMgs(refuse=2).running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            assert len(fake.posts) == 3 and len(fake.opens) == 1
            await fake.type("exit\n")
            assert (await outcome).status == "Success"

    asyncio.run(scenario())


def test_a_session_whose_data_channel_cannot_be_opened_fails_with_awss_message() -> None:
    async def scenario() -> None:
        async with FakeMgs(refuse=100).running() as fake:
            outcome = await runner(fake, task(SHELL_DOCUMENT)).run()
            assert outcome.status == "Failed"
            assert outcome.output.startswith(f"Setting up data channel with id {SESSION_ID} failed: ")
            assert len(fake.posts) == 5  # AWS's DataChannelNumMaxAttempts

    asyncio.run(scenario())


def test_a_client_that_never_answers_the_handshake_fails_the_session() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            fake.client_version = ""  # answered below: never
            fake._receive = _ignore  # type: ignore[method-assign]
            settings = SessionSettings(handshake_timeout=dt.timedelta(seconds=0.5), drain_timeout=dt.timedelta(0))
            outcome = await runner(fake, task(SHELL_DOCUMENT), settings=settings).run()
            assert outcome.status == "Failed"
            assert outcome.output == ("Encountered error while initiating handshake. Handshake timed out. Please "
                                      "ensure that you have the latest version of the session manager plugin.")

    asyncio.run(scenario())


async def _ignore(websocket: WebSocket, frame: bytes) -> None:
    return None
