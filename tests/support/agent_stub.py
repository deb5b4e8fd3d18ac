"""A stand-in for the service's agent-facing endpoints, answering as AWS does (the golden capture's answers),
for the agent's unit tests: JSON 1.1 `ssm` and `ec2messages` calls, the control channel's creation and its
WebSocket. It records everything the agent sends; tests queue jobs and messages for the agent."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from openssm.protocol import mgs
from openssm.protocol.agent_message import AgentMessage
from tests.support.server import free_port

INSTANCE_ID = "mi-0123456789abcdef0"
TOKEN = "capture-channel-token"


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return self.headers.get("x-amz-target", "")

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class StubAws:
    """Answers: `answers[target]` (a callable of the recorded call) overrides the defaults below."""

    answers: dict[str, Callable[[Call], tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    upgrades: list[dict[str, str]] = field(default_factory=list)
    open_frames: list[dict[str, Any]] = field(default_factory=list)
    frames: list[AgentMessage] = field(default_factory=list)  # binary frames from the agent
    messages: list[dict[str, Any]] = field(default_factory=list)  # ec2messages waiting for GetMessages
    refuse_channel: bool = False
    withhold_acks: int = 0  # replies to leave unacknowledged before acknowledging again
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self._outbox: queue.Queue[bytes | None] = queue.Queue()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- test side -------------------------------------------------------------------------------------
    def send_job(self, job: mgs.AgentJob) -> AgentMessage:
        message = job.message(int(time.time() * 1000))
        self._outbox.put(message.encode())
        return message

    def close_channel(self) -> None:
        self._outbox.put(None)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if predicate():
                    return
            time.sleep(0.02)
        raise AssertionError(f"timed out; calls={[c.target or c.path for c in self.calls]}, "
                             f"frames={[f.message_type for f in self.frames]}")

    def of_type(self, kind: str) -> list[AgentMessage]:
        return [f for f in self.frames if f.message_type == kind]

    def targets(self) -> list[str]:
        return [c.target for c in self.calls]

    # -- server side -----------------------------------------------------------------------------------
    def _default(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if target == "AmazonSSM.RegisterManagedInstance":
            return 200, {"InstanceId": INSTANCE_ID}
        if target == "AmazonSSM.RequestManagedInstanceRoleToken":
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).timestamp()
            return 200, {"AccessKeyId": "ASIACAPTURECAPTURE01", "SecretAccessKey": "capture/secret/key/0123456789abcdef",
                         "SessionToken": "capture-session-token", "TokenExpirationDate": expires,
                         "UpdateKeyPair": False}
        if target == "EC2WindowsMessageDeliveryService.GetMessages":
            with self._lock:
                taken, self.messages[:] = list(self.messages), []
            return 200, {"Destination": body["Destination"], "Messages": taken,
                         "MessagesRequestId": str(uuid.uuid4())}
        return 200, {}

    async def _json_call(self, request: Request) -> Response:
        body = await request.body()
        call = Call(request.method, request.url.path, {k.lower(): v for k, v in request.headers.items()}, body)
        with self._lock:
            self.calls.append(call)
        answer = self.answers.get(call.target, lambda c: self._default(c.target, json.loads(c.body or b"{}")))
        status, payload = answer(call)
        return JSONResponse(payload, status_code=status, media_type="application/x-amz-json-1.1")

    async def _create_channel(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.calls.append(Call(request.method, request.url.path,
                                   {k.lower(): v for k, v in request.headers.items()}, body))
        if self.refuse_channel:
            return Response('{"message":"unavailable"}', status_code=503, media_type="application/json")
        return Response(mgs.create_channel_response(TOKEN), status_code=201, media_type="application/xml")

    async def _channel(self, websocket: WebSocket) -> None:
        with self._lock:
            self.upgrades.append({k.lower(): v for k, v in websocket.headers.items()} |
                                 {"query": websocket.url.query})
        await websocket.accept()
        opened = json.loads(await websocket.receive_text())
        with self._lock:
            self.open_frames.append(opened)
        sender = asyncio.create_task(self._send_jobs(websocket))
        try:
            while True:
                message = AgentMessage.decode(await websocket.receive_bytes())
                with self._lock:
                    self.frames.append(message)
                    acknowledge = message.message_type == mgs.ControlType.JOB_REPLY and self.withhold_acks <= 0
                    if message.message_type == mgs.ControlType.JOB_REPLY and not acknowledge:
                        self.withhold_acks -= 1
                if acknowledge:
                    job_id = json.loads(message.payload)["jobId"]
                    await websocket.send_bytes(mgs.reply_ack(job_id, message, int(time.time() * 1000)).encode())
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sender.cancel()

    async def _send_jobs(self, websocket: WebSocket) -> None:
        while True:
            data = await asyncio.to_thread(self._outbox.get)
            if data is None:
                await websocket.close()
                return
            await websocket.send_bytes(data)

    def __enter__(self) -> StubAws:
        app = Starlette(routes=[Route("/", self._json_call, methods=["POST"]),
                                Route("/v1/control-channel/{instance_id}", self._create_channel, methods=["POST"]),
                                WebSocketRoute("/v1/control-channel/{instance_id}", self._channel)])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="off", ws="websockets-sansio"))
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._outbox.put(None)
        if self._server is not None:
            self._server.should_exit = True
