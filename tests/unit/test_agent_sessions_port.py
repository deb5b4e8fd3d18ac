"""Port sessions against real local TCP servers: AWS-StartSSHSession's raw byte stream (DisconnectToPort,
TerminateSession, the target closing, a refused port) and LocalPortForwarding's smux streams, each a TCP
connection of its own (ConnectToPortError for one that cannot be made)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from openssm.agent.sessions.plugin import PORT_READ
from openssm.protocol.agent_data_channel import read_flag
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue
from openssm.protocol.smux_mux import SmuxSession, StreamClosed, StreamData
from tests.support.server import free_port
from tests.unit.test_agent_sessions_harness import (
    FORWARDING_DOCUMENT,
    SSH_DOCUMENT,
    FakeMgs,
    runner,
    started,
    task,
)


@dataclass
class EchoServer:
    """Answers every line with `echo:<line>`; counts connections; `close_after` closes each after one answer."""

    close_after: bool = False
    connections: int = 0
    closed: int = 0
    port: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while line := await reader.readline():
                writer.write(b"echo:" + line)
                await writer.drain()
                if self.close_after:
                    break
        finally:
            self.closed += 1
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[EchoServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self
            for writer in self.writers:
                writer.close()


def test_an_ssh_session_pipes_raw_bytes_to_the_port_and_back() -> None:
    async def scenario() -> None:
        async with EchoServer().running() as target, FakeMgs().running() as fake:
            session = task(SSH_DOCUMENT, {"portNumber": [str(target.port)]}, name="AWS-StartSSHSession")
            outcome = await started(fake, runner(fake, session))
            request = fake.handshake_request().request
            assert (request.session_type.value, dict(request.properties)) == ("Port", {"portNumber": str(target.port)})
            assert fake.handshake_complete().complete.customer_message == ""
            await fake.type("SSH-2.0-OpenSSH_9.2\r\n")
            await fake.wait_for(lambda: fake.output() == b"echo:SSH-2.0-OpenSSH_9.2\r\n")
            await fake.flag(FlagValue.TERMINATE_SESSION)
            assert (await outcome).status == "Success"
            assert target.connections == 1

    asyncio.run(scenario())


def test_disconnect_to_port_closes_the_connection_and_the_next_data_opens_another() -> None:
    async def scenario() -> None:
        async with EchoServer().running() as target, FakeMgs().running() as fake:
            session = task(SSH_DOCUMENT, {"portNumber": [str(target.port)]})
            outcome = await started(fake, runner(fake, session))
            await fake.type("one\n")
            await fake.wait_for(lambda: fake.output() == b"echo:one\n")
            await fake.flag(FlagValue.DISCONNECT_TO_PORT)
            await fake.wait_for(lambda: target.closed == 1)
            await fake.type("two\n")
            await fake.wait_for(lambda: fake.output() == b"echo:one\necho:two\n")
            assert target.connections == 2 and not outcome.done()
            await fake.flag(FlagValue.TERMINATE_SESSION)
            await outcome

    asyncio.run(scenario())


def test_the_target_closing_its_end_ends_an_ssh_session() -> None:
    async def scenario() -> None:
        async with EchoServer(close_after=True).running() as target, FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SSH_DOCUMENT, {"portNumber": [str(target.port)]})))
            await fake.type("bye\n")
            result = await outcome
            assert (result.status, fake.output()) == ("Success", b"echo:bye\n")

    asyncio.run(scenario())


def test_a_port_nobody_listens_on_fails_the_session_as_awss_agent_reports_it() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            result = await runner(fake, task(SSH_DOCUMENT, {"portNumber": [str(free_port())]})).run()
            assert result.status == "Failed"
            assert result.output.startswith("Unable to connect to specified port: ")

    asyncio.run(scenario())


def test_the_documents_default_port_is_used_when_no_parameter_is_given() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SSH_DOCUMENT)))
            assert dict(fake.handshake_request().request.properties) == {"portNumber": "22"}
            await fake.close_session()  # whether or not something listens on port 22 here
            await outcome

    asyncio.run(scenario())


class MuxClient:
    """The plugin's smux client over the fake service's client end."""

    def __init__(self, fake: FakeMgs) -> None:
        self.fake = fake
        self.mux = SmuxSession(client=True)
        self.seen = 0
        self.received: dict[int, bytes] = {}
        self.closed: set[int] = set()

    def pump(self) -> None:
        data = self.fake.output()
        for event in self.mux.feed(data[self.seen:]):
            if isinstance(event, StreamData):
                self.received[event.stream_id] = self.received.get(event.stream_id, b"") + event.data
            elif isinstance(event, StreamClosed):
                self.closed.add(event.stream_id)
        self.seen = len(data)

    async def open(self) -> int:
        opened: tuple[int, bytes] = self.mux.open()
        await self.fake.send(PayloadType.OUTPUT, opened[1])
        return opened[0]

    async def write(self, stream_id: int, data: bytes) -> None:
        await self.fake.send(PayloadType.OUTPUT, self.mux.write(stream_id, data))

    async def wait_for(self, stream_id: int, data: bytes) -> None:
        def arrived() -> bool:
            self.pump()
            return self.received.get(stream_id) == data
        await self.fake.wait_for(arrived)


def test_port_forwarding_opens_a_connection_for_each_smux_stream() -> None:
    async def scenario() -> None:
        async with EchoServer().running() as target, FakeMgs().running() as fake:
            session = task(FORWARDING_DOCUMENT, {"portNumber": [str(target.port)], "localPortNumber": ["18765"]},
                           name="AWS-StartPortForwardingSession")
            outcome = await started(fake, runner(fake, session))
            assert dict(fake.handshake_request().request.properties) == {
                "portNumber": str(target.port), "type": "LocalPortForwarding", "localPortNumber": "18765"}
            client = MuxClient(fake)
            first, second = await client.open(), await client.open()
            await client.write(first, b"ping\n")
            await client.write(second, b"x" * 3000 + b"\n")
            await client.wait_for(first, b"echo:ping\n")
            await client.wait_for(second, b"echo:" + b"x" * 3000 + b"\n")
            assert target.connections == 2
            await fake.send(PayloadType.OUTPUT, client.mux.close(first))  # the client's FIN closes its connection
            await fake.wait_for(lambda: target.closed == 1)
            await fake.flag(FlagValue.TERMINATE_SESSION)
            assert (await outcome).status == "Success"
            outputs = [m for m in fake.from_agent if m.message_type == "output_stream_data"]
            assert all(len(m.payload) <= PORT_READ for m in outputs)  # one smux frame per message

    asyncio.run(scenario())


def test_a_target_that_closes_ends_its_stream_with_fin() -> None:
    async def scenario() -> None:
        async with EchoServer(close_after=True).running() as target, FakeMgs().running() as fake:
            session = task(FORWARDING_DOCUMENT, {"portNumber": [str(target.port)]})
            outcome = await started(fake, runner(fake, session))
            client = MuxClient(fake)
            stream = await client.open()
            await client.write(stream, b"ping\n")
            await client.wait_for(stream, b"echo:ping\n")

            def finished() -> bool:
                client.pump()
                return stream in client.closed
            await fake.wait_for(finished)
            await fake.close_session()
            assert (await outcome).status == "Terminated"

    asyncio.run(scenario())


def test_a_stream_whose_port_refuses_gets_connect_to_port_error_and_fin() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            session = task(FORWARDING_DOCUMENT, {"portNumber": [str(free_port())]})
            outcome = await started(fake, runner(fake, session))
            client = MuxClient(fake)
            stream = await client.open()
            await fake.wait_for(lambda: bool(fake.output(PayloadType.FLAG)))
            assert read_flag(fake.output(PayloadType.FLAG)) is FlagValue.CONNECT_TO_PORT_ERROR

            def finished() -> bool:
                client.pump()
                return stream in client.closed
            await fake.wait_for(finished)
            assert not outcome.done()  # the session goes on: other streams may succeed
            await fake.flag(FlagValue.TERMINATE_SESSION)
            await outcome

    asyncio.run(scenario())


def test_an_smux_keepalive_from_the_client_is_not_answered() -> None:
    async def scenario() -> None:
        async with EchoServer().running() as target, FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(FORWARDING_DOCUMENT, {"portNumber": [str(target.port)]})))
            client = MuxClient(fake)
            before = len(fake.output())
            await fake.send(PayloadType.OUTPUT, client.mux.keepalive())
            await asyncio.sleep(0.3)
            assert len(fake.output()) == before and not outcome.done()
            await fake.flag(FlagValue.TERMINATE_SESSION)
            await outcome

    asyncio.run(scenario())


def test_an_old_client_without_smux_gets_the_byte_stream() -> None:
    async def scenario() -> None:
        async with EchoServer().running() as target, FakeMgs(client_version="1.1.61.0").running() as fake:
            outcome = await started(fake, runner(fake, task(FORWARDING_DOCUMENT, {"portNumber": [str(target.port)]})))
            await fake.type("raw\n")
            await fake.wait_for(lambda: fake.output() == b"echo:raw\n")
            await fake.flag(FlagValue.TERMINATE_SESSION)
            await outcome

    asyncio.run(scenario())
