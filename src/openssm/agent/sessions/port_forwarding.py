"""LocalPortForwarding sessions (AWS-StartPortForwardingSession, …ToRemoteHost) for clients that speak smux
(AWS's MuxPortSession, agent/session/plugins/port/port_mux.go): the session's byte stream is an smux v1
session in which this end is the server. Each stream the client opens is a new TCP connection to
localhost:<portNumber> (or to `host`); a connection that cannot be made is answered with the
ConnectToPortError flag and the stream's FIN. Either side closing ends both (AWS closes the TCP connection
when the stream ends, and the stream when the connection ends). The session itself ends with the client's
TerminateSession flag, or when the service closes it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from openssm.agent.sessions.document import PortProperties, SessionConfig
from openssm.agent.sessions.plugin import PORT_READ, FinalStatus, Output, PluginResult
from openssm.agent.sessions.port import close_writer, destination, dial
from openssm.protocol.agent_data_channel import read_flag
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue
from openssm.protocol.smux import HEADER, SmuxError
from openssm.protocol.smux_mux import SmuxSession, StreamClosed, StreamData, StreamOpened

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 10.0  # xtaci/smux's default interval, for clients that still expect keepalives
_READ = PORT_READ - HEADER.size  # one PSH frame per data channel message


class _Stream:
    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.early: list[bytes] = []  # data that came before the connection was made
        self.task: asyncio.Task[None] | None = None


class MuxPortPlugin:
    def __init__(self, config: SessionConfig, output: Output, *, keepalive: bool = False) -> None:
        self._config = config
        self._output = output
        self._keepalive = keepalive
        self._mux = SmuxSession(client=False)
        self._port = PortProperties("0")
        self._addresses: list[str] = []
        self._streams: dict[int, _Stream] = {}
        self._done: asyncio.Future[PluginResult] = asyncio.get_running_loop().create_future()
        self._pinger: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._port, self._addresses = await destination(self._config)
        if self._keepalive:
            self._pinger = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            await self._output.send(PayloadType.OUTPUT, self._mux.keepalive())

    async def input(self, payload_type: PayloadType, payload: bytes) -> None:
        if payload_type == PayloadType.FLAG:
            if read_flag(payload) is FlagValue.TERMINATE_SESSION:
                self._finish(PluginResult(FinalStatus.SUCCESS))
            return
        if payload_type != PayloadType.OUTPUT or self._done.done():
            return
        try:
            events = self._mux.feed(payload)
        except SmuxError as err:
            self._finish(PluginResult(FinalStatus.FAILED, f"Unable to read the port forwarding stream: {err}"))
            return
        for event in events:
            if isinstance(event, StreamOpened):
                stream = self._streams[event.stream_id] = _Stream()
                stream.task = asyncio.create_task(self._serve(event.stream_id, stream))
            elif isinstance(event, StreamData):
                self._write(event.stream_id, event.data)
            elif isinstance(event, StreamClosed):
                await self._close(event.stream_id)

    def _write(self, stream_id: int, data: bytes) -> None:
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        if stream.writer is None:
            stream.early.append(data)
            return
        with contextlib.suppress(OSError, RuntimeError):
            stream.writer.write(data)

    async def _serve(self, stream_id: int, stream: _Stream) -> None:
        """Connect the stream to the destination and send what the connection says until it closes."""
        try:
            reader, stream.writer = await dial(self._port, self._addresses)
        except OSError as err:
            log.info("session %s: stream %d cannot reach the port: %s", self._config.session_id, stream_id, err)
            await self._output.send_flag(FlagValue.CONNECT_TO_PORT_ERROR)
            await self._close(stream_id)
            return
        for data in stream.early:
            stream.writer.write(data)
        stream.early.clear()
        try:
            while data := await reader.read(_READ):
                await self._output.send(PayloadType.OUTPUT, self._mux.write(stream_id, data))
        except (OSError, SmuxError) as err:
            log.debug("session %s: stream %d: %s", self._config.session_id, stream_id, err)
        await self._close(stream_id)

    async def _close(self, stream_id: int) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is not None:
            close_writer(stream.writer)
            if stream.task is not None and stream.task is not asyncio.current_task():
                stream.task.cancel()
        fin = self._mux.close(stream_id)
        if fin and not self._done.done():
            await self._output.send(PayloadType.OUTPUT, fin)

    def _finish(self, result: PluginResult) -> None:
        if not self._done.done():
            self._done.set_result(result)

    async def wait(self) -> PluginResult:
        return await self._done

    async def stop(self) -> None:
        self._finish(PluginResult(FinalStatus.SUCCESS))
        tasks = [s.task for s in self._streams.values() if s.task is not None]
        for stream in self._streams.values():
            close_writer(stream.writer)
        self._streams.clear()
        if self._pinger is not None:
            tasks.append(self._pinger)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
