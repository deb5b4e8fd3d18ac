"""LocalPortForwarding with smux (AWS's MuxPortForwarding): a local listener whose every accepted connection
is a new smux stream over the data channel. Closing a local connection sends FIN; a FIN from the agent closes
the local connection once what arrived before it is written. NOPs go out on xtaci's keepalive interval,
since the agent's smux server closes a session that stays silent for its timeout."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import struct

from openssm.cli.session_client.context import SessionContext
from openssm.cli.session_client.ports import READ_SIZE, LocalListener, PortParameters, terminate
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue
from openssm.protocol.data_channel_endpoint import StreamData
from openssm.protocol.smux import HEADER, SmuxError
from openssm.protocol.smux_mux import ClosedStreamError, SmuxSession, StreamClosed, StreamOpened
from openssm.protocol.smux_mux import StreamData as SmuxData

KEEPALIVE_EVERY = 10.0  # xtaci's DefaultConfig().KeepAliveInterval


class MuxPortForwarding:
    def __init__(self, ctx: SessionContext, params: PortParameters, keepalive_every: float = KEEPALIVE_EVERY) -> None:
        self.ctx = ctx
        self.params = params
        self.exit_code = 0
        self.mux = SmuxSession(client=True)
        self._keepalive_every = keepalive_every
        self._writers: dict[int, asyncio.StreamWriter] = {}
        self._announced = False
        self._local = LocalListener(ctx, params)

    async def start(self) -> None:
        announcement = await self._local.open(self._serve, self._on_signal)
        self._local.run(self._keepalive())
        self.ctx.console.out(announcement)
        self.ctx.console.out("\nWaiting for connections...\n")

    async def receive(self, data: StreamData) -> None:
        if data.payload_type == PayloadType.FLAG:
            if data.payload[-4:] == struct.pack(">I", FlagValue.CONNECT_TO_PORT_ERROR):
                self.ctx.console.out("\nConnection to destination port failed, check SSM Agent logs.\n")
            return
        if data.payload_type != PayloadType.OUTPUT:
            return
        try:
            events = self.mux.feed(data.payload)
        except SmuxError as err:
            self.ctx.console.err(f"\nSessionId: {self.ctx.session_id} : {err}\n")
            self.ctx.finish(1)
            return
        for event in events:
            if isinstance(event, SmuxData):
                writer = self._writers.get(event.stream_id)
                if writer is not None:
                    writer.write(event.data)
            elif isinstance(event, StreamClosed):
                writer = self._writers.pop(event.stream_id, None)
                if writer is not None:
                    writer.close()  # its reader then sees the end and answers with our FIN
                else:
                    await self._send_frames(self.mux.close(event.stream_id))
            elif isinstance(event, StreamOpened):
                await self._send_frames(self.mux.close(event.stream_id))  # the agent's end never opens streams

    async def stop(self) -> None:
        self._local.close()
        for writer in list(self._writers.values()):
            writer.close()
        self._writers.clear()

    def _on_signal(self, _: signal.Signals) -> None:
        self._local.run(terminate(self.ctx))

    async def _send_frames(self, frames: bytes) -> None:
        if frames:
            await self.ctx.send(PayloadType.OUTPUT, frames)

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self._keepalive_every)
            await self._send_frames(self.mux.keepalive())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._announced:
            self._announced = True
            self.ctx.console.out(f"\nConnection accepted for session [{self.ctx.session_id}]\n")
        stream_id, syn = self.mux.open()
        self._writers[stream_id] = writer
        await self._send_frames(syn)
        try:
            with contextlib.suppress(OSError, ClosedStreamError):
                while data := await reader.read(READ_SIZE - HEADER.size):  # one PSH frame per message
                    await self.ctx.channel.wait_writable()
                    await self._send_frames(self.mux.write(stream_id, data))
        finally:
            self._writers.pop(stream_id, None)
            writer.close()
            await self._send_frames(self.mux.close(stream_id))
