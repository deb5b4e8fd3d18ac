"""A minimal agent end of a data channel, for testing clients without a server: it accepts one WebSocket,
checks the open frame's token, runs the handshake for the given session type, then answers each input with
`respond(data) -> bytes` (echo by default) until it is told to close."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets

from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import HandshakeComplete, HandshakeRequest, OpenDataChannel, SessionType
from openssm.protocol.data_channel_endpoint import DataChannelEndpoint, HandshakeResponded, Role, StreamData


@dataclass
class StandInAgent:
    token: str
    session_type: SessionType
    respond: Callable[[bytes], bytes] = lambda data: data
    close_after: bytes | None = None  # close the channel once input ending with this arrives
    received: list[StreamData] = field(default_factory=list)
    opened: OpenDataChannel | None = None
    handshake_answered: bool = False

    async def handle(self, socket: Any) -> None:
        loop = asyncio.get_running_loop()
        self.opened = OpenDataChannel.decode(await socket.recv())
        if self.opened.token != self.token:
            await socket.close(1008, "bad token")
            return
        agent = DataChannelEndpoint(Role.AGENT)
        for frame in agent.send_handshake(HandshakeRequest("3.3.0.0", self.session_type), loop.time()):
            await socket.send(frame)
        async for frame in socket:
            events, acks = agent.receive(frame, loop.time())
            for ack in acks:
                await socket.send(ack)
            for event in events:
                if isinstance(event, HandshakeResponded):
                    self.handshake_answered = True
                    complete = HandshakeComplete(dt.timedelta(milliseconds=1), "")
                    for out in agent.send_handshake(complete, loop.time()):
                        await socket.send(out)
                elif isinstance(event, StreamData):
                    self.received.append(event)
                    if event.payload_type == PayloadType.OUTPUT:
                        for out in agent.send(PayloadType.OUTPUT, self.respond(event.payload), loop.time()):
                            await socket.send(out)
                        if self.close_after and event.payload.endswith(self.close_after):
                            await socket.send(agent.close("s-1", "mi-0123456789abcdef0", "", loop.time()))


async def serve(agent: StandInAgent) -> tuple[Any, str]:
    server = await websockets.serve(agent.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/v1/data-channel/s-1?role=publish_subscribe"
