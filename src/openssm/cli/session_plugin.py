"""`session-manager-plugin`: the client end of a Session Manager data channel, with the argv contract of
AWS's plugin so that `aws ssm start-session` runs it (DESIGN §4):

    session-manager-plugin <StartSession response JSON | AWS_SSM_START_SESSION_RESPONSE> <region>
                           StartSession <profile> <StartSession request JSON> <ssm endpoint url>

Shell sessions put the terminal in raw mode and send its size (and every resize); port sessions without a
`type` (AWS-StartSSHSession) pipe stdin and stdout as a raw byte stream, which is what OpenSSH's
ProxyCommand needs. The protocol rules live in protocol/data_channel_endpoint.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import ssl
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import websockets

from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import HandshakeResponse, OpenDataChannel, SessionType
from openssm.protocol.data_channel_endpoint import (
    Closed,
    DataChannelEndpoint,
    HandshakeCompleted,
    HandshakeRequested,
    Role,
    StreamData,
)

VERSION = "1.2.804.0"  # the AWS plugin version whose protocol this speaks (the aws CLI warns below 1.2.764.0)
ENV_RESPONSE = "AWS_SSM_START_SESSION_RESPONSE"
_RESEND_EVERY = 0.1


@dataclass(frozen=True)
class SessionStart:
    session_id: str
    token: str
    stream_url: str
    target: str


def parse_argv(argv: list[str], environ: dict[str, str]) -> SessionStart:
    """The StartSession response (inline JSON, or the name of the variable holding it) and the request."""
    if len(argv) < 5 or argv[2] != "StartSession":
        raise SystemExit("usage: session-manager-plugin <response> <region> StartSession <profile> <request> [url]")
    raw = environ.get(argv[0], "") if argv[0] == ENV_RESPONSE else argv[0]
    response: dict[str, Any] = json.loads(raw)
    request: dict[str, Any] = json.loads(argv[4])
    if "Target" not in request:
        raise SystemExit("the StartSession request must hold a Target")
    return SessionStart(response["SessionId"], response["TokenValue"], response["StreamUrl"], request["Target"])


class PluginSession:
    def __init__(self, start: SessionStart) -> None:
        self.start = start
        self.endpoint = DataChannelEndpoint(Role.CLIENT)
        self.session_type: SessionType | None = None
        self._socket: Any = None
        self._loop = asyncio.get_running_loop()

    async def run(self) -> int:
        context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE")) \
            if self.start.stream_url.startswith("wss") else None
        async with websockets.connect(self.start.stream_url, ssl=context, max_size=None) as socket:
            self._socket = socket
            await socket.send(OpenDataChannel(self.start.token, str(uuid.uuid4()), VERSION).encode())
            resender = asyncio.create_task(self._resend())
            try:
                return await self._receive()
            finally:
                resender.cancel()

    async def send(self, payload_type: PayloadType, payload: bytes) -> None:
        for frame in self.endpoint.send(payload_type, payload, self._loop.time()):
            await self._socket.send(frame)

    async def _resend(self) -> None:
        while True:
            await asyncio.sleep(_RESEND_EVERY)
            for frame in self.endpoint.due(self._loop.time()):
                await self._socket.send(frame)

    async def _receive(self) -> int:
        async for frame in self._socket:
            if isinstance(frame, str):
                continue
            events, replies = self.endpoint.receive(frame, self._loop.time())
            for reply in replies:
                await self._socket.send(reply)
            for event in events:
                if isinstance(event, HandshakeRequested):
                    await self._handshake(event)
                elif isinstance(event, HandshakeCompleted) and event.complete.customer_message:
                    _write(sys.stdout.buffer, event.complete.customer_message.encode() + b"\n")
                elif isinstance(event, StreamData) and event.payload_type == PayloadType.OUTPUT:
                    _write(sys.stdout.buffer, event.payload)
                elif isinstance(event, Closed):
                    if event.closed.output:
                        _write(sys.stderr.buffer, event.closed.output.encode() + b"\n")
                    return 0
        return 0

    async def _handshake(self, event: HandshakeRequested) -> None:
        self.session_type = event.request.session_type
        await self.send(PayloadType.HANDSHAKE_RESPONSE, HandshakeResponse(VERSION).encode())
        # As AWS's plugin, on stdout; ssh tolerates it (RFC 4253 §4.2 lets lines precede the version banner).
        _write(sys.stdout.buffer, f"\nStarting session with SessionId: {self.start.session_id}\n".encode())
        if self.session_type is not SessionType.PORT:
            await self._send_size()
            self._loop.add_signal_handler(signal.SIGWINCH, lambda: asyncio.ensure_future(self._send_size()))
        asyncio.ensure_future(self._pump_stdin())

    async def _send_size(self) -> None:
        cols, rows = os.get_terminal_size(sys.stdout.fileno()) if sys.stdout.isatty() else (80, 24)
        await self.send(PayloadType.SIZE, json.dumps({"cols": cols, "rows": rows}, separators=(",", ":")).encode())

    async def _pump_stdin(self) -> None:
        reader = asyncio.StreamReader()
        await self._loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
        while chunk := await reader.read(1024):
            await self.send(PayloadType.OUTPUT, chunk)
        if self.session_type is SessionType.PORT:
            # As AWS's plugin: when ssh closes its end, the session is over; no WebSocket close frame.
            os._exit(0)


def _write(stream: Any, data: bytes) -> None:
    stream.write(data)
    stream.flush()


@contextlib.contextmanager
def raw_terminal() -> Iterator[None]:
    """Keystrokes pass straight through (Ctrl-C included) while a shell session runs."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(sys.stdin.fileno())
    try:
        tty.setraw(sys.stdin.fileno())
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n")
        return
    if args[0] in ("--version", "version"):
        print(VERSION)
        return
    start = parse_argv(args, dict(os.environ))

    async def session() -> int:
        return await PluginSession(start).run()

    try:
        with raw_terminal():
            code = asyncio.run(session())
    except websockets.ConnectionClosedError as err:
        reason = err.rcvd.reason if err.rcvd else "no reason given"
        print(f"\nSessionId: {start.session_id} : the data channel was closed: {reason}", file=sys.stderr)
        code = 1
    except (OSError, websockets.InvalidHandshake) as err:
        print(f"\nSessionId: {start.session_id} : cannot open the data channel: {err}", file=sys.stderr)
        code = 1
    sys.exit(code)
