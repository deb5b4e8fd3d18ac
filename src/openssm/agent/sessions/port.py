"""Port sessions carried as one byte stream (AWS's BasicPortSession, agent/session/plugins/port): one TCP
connection to localhost:<portNumber> (or to `host`), its bytes sent as OUTPUT and the client's written to it.
This is AWS-StartSSHSession (no `type`), and `LocalPortForwarding` for a client too old for smux.

Flags from the client: DisconnectToPort closes the connection, and the next data opens a new one;
TerminateSession ends the session. The target closing its end ends an SSH session; a forwarded port is
reconnected on the next data, as AWS's agent does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from openssm.agent.sessions.document import InvalidSession, PortProperties, SessionConfig
from openssm.agent.sessions.plugin import PORT_READ, FinalStatus, Output, PluginResult, SessionFailed
from openssm.protocol.agent_data_channel import read_flag
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue

log = logging.getLogger(__name__)
LOCAL_PORT_FORWARDING = "LocalPortForwarding"
CONNECT_TIMEOUT = 30.0


async def resolve(host: str) -> list[str]:
    """The addresses to try for `host` (none: localhost is dialled by name, as AWS's agent does)."""
    if not host:
        return []
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def destination(config: SessionConfig) -> tuple[PortProperties, list[str]]:
    """The port a session's connections go to and the addresses to try; SessionFailed when the document's
    port or host is not usable."""
    try:
        port = config.port
        return port, await resolve(port.host)
    except (InvalidSession, OSError) as err:
        raise SessionFailed(str(err)) from err


async def dial(port: PortProperties, addresses: list[str]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the session's destination: localhost, or the first of `host`'s addresses that answers."""
    candidates = addresses or ["localhost"]
    first: OSError | None = None
    for address in candidates:
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, int(port.port_number)), CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as err:
            first = first or (err if isinstance(err, OSError) else OSError(f"dial {address}: i/o timeout"))
    raise first or OSError("missing address")


def close_writer(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


class PortPlugin:
    def __init__(self, config: SessionConfig, output: Output) -> None:
        self._config = config
        self._output = output
        self._port = PortProperties("0")
        self._addresses: list[str] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reconnect = False  # the client disconnected: the next data opens a new connection
        self._changed = asyncio.Event()
        self._done: asyncio.Future[PluginResult] = asyncio.get_running_loop().create_future()
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._port, self._addresses = await destination(self._config)
        await self._connect()
        self._pump = asyncio.create_task(self._send_output())

    async def _connect(self) -> None:
        try:
            self._reader, self._writer = await dial(self._port, self._addresses)
        except OSError as err:
            raise SessionFailed(f"Unable to connect to specified port: {err}") from err
        self._changed.set()

    def _drop_connection(self) -> None:
        close_writer(self._writer)
        self._reader = self._writer = None

    async def _send_output(self) -> None:
        while not self._done.done():
            reader = self._reader
            if reader is None:
                await self._changed.wait()
                self._changed.clear()
                continue
            error: OSError | None = None
            try:
                data = await reader.read(PORT_READ)
            except OSError as err:
                data, error = b"", err
            if data:
                await self._output.send(PayloadType.OUTPUT, data)
                continue
            if reader is not self._reader:
                continue  # replaced: the client disconnected and has already connected again
            if self._reconnect or self._port.type == LOCAL_PORT_FORWARDING:
                log.debug("session %s: connection closed; reconnecting on the next data", self._config.session_id)
                self._drop_connection()
                self._reconnect = True
                continue
            log.info("session %s: the TCP connection was closed", self._config.session_id)
            self._finish(PluginResult(FinalStatus.FAILED, f"Failed to read from port: {error}") if error
                         else PluginResult(FinalStatus.SUCCESS))

    def _finish(self, result: PluginResult) -> None:
        if not self._done.done():
            self._done.set_result(result)

    async def input(self, payload_type: PayloadType, payload: bytes) -> None:
        if payload_type == PayloadType.OUTPUT:
            await self._write(payload)
        elif payload_type == PayloadType.FLAG:
            flag = read_flag(payload)
            if flag is FlagValue.DISCONNECT_TO_PORT:
                log.debug("session %s: DisconnectToPort", self._config.session_id)
                self._reconnect = True
                self._drop_connection()
            elif flag is FlagValue.TERMINATE_SESSION:
                log.debug("session %s: TerminateSession", self._config.session_id)
                self._finish(PluginResult(FinalStatus.SUCCESS))

    async def _write(self, data: bytes) -> None:
        if self._done.done():
            return
        if self._writer is None:
            try:
                await self._connect()
            except SessionFailed as err:
                self._finish(PluginResult(FinalStatus.FAILED, str(err)))
                return
            self._reconnect = False
        writer = self._writer
        assert writer is not None
        try:
            writer.write(data)
            await writer.drain()
        except (OSError, RuntimeError) as err:
            log.info("session %s: unable to write to port: %s", self._config.session_id, err)

    async def wait(self) -> PluginResult:
        return await self._done

    async def stop(self) -> None:
        self._finish(PluginResult(FinalStatus.SUCCESS))
        self._drop_connection()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
