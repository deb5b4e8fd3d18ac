"""Port sessions of the plugin against a fake agent on real sockets: LocalPortForwarding multiplexes every
local connection as an smux stream (20 at once here), FINs travel both ways, NOPs keep the agent's smux
session alive; older agents get AWS's one-connection-at-a-time forwarding; the session kind follows AWS's
plugin's choice; Ctrl-C ends a port session as AWS's plugin ends it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import struct
from typing import Any

from openssm.cli.session_client import Console, handler_for
from openssm.cli.session_client.context import SessionContext, agent_version_after
from openssm.cli.session_client.port_mux import MuxPortForwarding
from openssm.cli.session_client.ports import BasicPortForwarding, PortParameters, StandardStreamForwarding
from openssm.cli.session_client.shell import ShellSession
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue, HandshakeRequest, SessionType
from openssm.protocol.data_channel_endpoint import StreamData
from openssm.protocol.smux import Command, FrameReader
from openssm.protocol.smux_mux import SmuxSession, StreamClosed, StreamOpened
from openssm.protocol.smux_mux import StreamData as SmuxData
from tests.unit.test_session_plugin_fake_agent import (
    PLUGIN,
    SESSION_ID,
    TARGET,
    FakeAgent,
    PluginRun,
    eventually,
    run_plugin,
    serve,
)

MUX = {"portNumber": "80", "type": "LocalPortForwarding", "localPortNumber": "0"}


class MuxServerEnd:
    """The agent's smux server: echoes every stream, answers a FIN with its own, or closes first if told to."""

    def __init__(self, agent: FakeAgent, close_after_reply: bool = False) -> None:
        self.agent, self.close_after_reply = agent, close_after_reply
        self.mux = SmuxSession(client=False)
        self.opened: list[int] = []
        self.closed: list[int] = []
        agent.on_data = self.on_data

    async def on_data(self, data: StreamData) -> None:
        if data.payload_type != PayloadType.OUTPUT:
            return
        for event in self.mux.feed(data.payload):
            if isinstance(event, StreamOpened):
                self.opened.append(event.stream_id)
            elif isinstance(event, SmuxData):
                reply = self.mux.write(event.stream_id, event.data)
                if self.close_after_reply:
                    reply += self.mux.close(event.stream_id)
                await self.agent.send(PayloadType.OUTPUT, reply)
            elif isinstance(event, StreamClosed):
                self.closed.append(event.stream_id)
                await self.agent.send(PayloadType.OUTPUT, self.mux.close(event.stream_id))


def opened_port(stdout: bytes) -> int:
    found = re.search(rb"Port (\d+) opened for sessionId " + SESSION_ID.encode() + rb"\.", stdout)
    assert found, stdout
    return int(found.group(1))


async def echo_through(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    got = await reader.readexactly(len(data))
    writer.close()
    await writer.wait_closed()
    return got


def test_twenty_parallel_connections_each_get_their_own_smux_stream_and_bytes_back() -> None:
    agent = FakeAgent(SessionType.PORT, MUX)
    far_end = MuxServerEnd(agent)
    payloads = [os.urandom(20_000 + i) for i in range(20)]
    echoed: list[bytes] = []

    async def scenario(run: PluginRun) -> None:
        port = opened_port(await run.stdout.wait_for(b"Waiting for connections...\n"))
        echoed.extend(await asyncio.gather(*(echo_through(port, p) for p in payloads)))
        await eventually(lambda: len(far_end.closed) == 20)

    code, run = asyncio.run(run_plugin(agent, scenario))
    out = run.stdout.getvalue()
    assert code == 0
    assert echoed == payloads
    assert sorted(far_end.opened) == sorted(far_end.closed) == list(range(3, 43, 2))
    port = opened_port(out)
    assert f"Port {port} opened for sessionId {SESSION_ID}.\nWaiting for connections...\n".encode() in out
    assert out.count(f"\nConnection accepted for session [{SESSION_ID}]\n".encode()) == 1
    assert out.endswith(f"\n\nExiting session with sessionId: {SESSION_ID}.\n\n".encode())


def test_a_fin_from_the_agent_closes_the_local_connection_after_its_data_and_is_answered() -> None:
    agent = FakeAgent(SessionType.PORT, MUX)
    MuxServerEnd(agent, close_after_reply=True)
    got: list[bytes] = []

    async def scenario(run: PluginRun) -> None:
        port = opened_port(await run.stdout.wait_for(b"Waiting for connections...\n"))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello")
        got.append(await asyncio.wait_for(reader.read(), 10))  # to the end: the agent's FIN closed it
        writer.close()
        await eventually(lambda: any(f.command is Command.FIN for f in FrameReader().feed(agent.input_bytes())))

    code, _ = asyncio.run(run_plugin(agent, scenario))
    frames = FrameReader().feed(agent.input_bytes())
    assert code == 0 and got == [b"hello"]
    assert [(f.command, f.stream_id) for f in frames] == [(Command.SYN, 3), (Command.PSH, 3), (Command.FIN, 3)]


def test_nops_keep_the_agents_smux_session_alive_while_no_connection_talks() -> None:
    agent = FakeAgent(SessionType.PORT, MUX)

    def choose(request: HandshakeRequest, ctx: SessionContext) -> MuxPortForwarding:
        return MuxPortForwarding(ctx, PortParameters.of(request.properties, ctx.parameters), keepalive_every=0.05)

    async def scenario(run: PluginRun) -> None:
        await run.stdout.wait_for(b"Waiting for connections...\n")
        await eventually(lambda: len(FrameReader().feed(agent.input_bytes())) >= 3)

    asyncio.run(run_plugin(agent, scenario, choose=choose))
    frames = FrameReader().feed(agent.input_bytes())
    assert frames and all(f.command is Command.NOP and f.stream_id == 0 for f in frames)


def test_a_connect_to_port_error_from_the_agent_is_reported_as_aws_plugin_does() -> None:
    agent = FakeAgent(SessionType.PORT, MUX)

    async def scenario(run: PluginRun) -> None:
        await run.stdout.wait_for(b"Waiting for connections...\n")
        await agent.send(PayloadType.FLAG, struct.pack(">I", FlagValue.CONNECT_TO_PORT_ERROR))
        await run.stdout.wait_for(b"Connection to destination port failed")

    _, run = asyncio.run(run_plugin(agent, scenario))
    out = run.stdout.getvalue()
    assert b"\nConnection to destination port failed, check SSM Agent logs.\n" in out


def test_the_local_port_comes_from_the_request_parameters_when_the_properties_lack_it() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    agent = FakeAgent(SessionType.PORT, {"portNumber": "80", "type": "LocalPortForwarding"})
    MuxServerEnd(agent)

    async def scenario(run: PluginRun) -> None:
        await run.stdout.wait_for(b"Waiting for connections...\n")
        assert await echo_through(free, b"ping") == b"ping"

    _, run = asyncio.run(run_plugin(agent, scenario, parameters={"localPortNumber": [str(free)]}))
    out = run.stdout.getvalue()
    assert opened_port(out) == free


def test_older_agents_get_one_connection_at_a_time_and_a_disconnect_flag_after_each() -> None:
    agent = FakeAgent(SessionType.PORT, MUX, agent_version="3.0.196.0")  # multiplexing came after this one

    async def echo(data: StreamData) -> None:
        if data.payload_type == PayloadType.OUTPUT:
            await agent.send(PayloadType.OUTPUT, data.payload)
    agent.on_data = echo

    def flags() -> list[bytes]:
        return [e.payload for e in agent.received if e.payload_type == PayloadType.FLAG]

    async def scenario(run: PluginRun) -> None:
        port = opened_port(await run.stdout.wait_for(b"opened for sessionId"))
        assert await echo_through(port, b"first") == b"first"
        await eventually(lambda: len(flags()) == 1)
        assert await echo_through(port, b"second") == b"second"
        await eventually(lambda: len(flags()) == 2)

    code, run = asyncio.run(run_plugin(agent, scenario))
    out = run.stdout.getvalue()
    assert code == 0 and agent.input_bytes() == b"firstsecond"
    assert flags() == [struct.pack(">I", FlagValue.DISCONNECT_TO_PORT)] * 2
    assert f"Port {opened_port(out)} opened for sessionId {SESSION_ID}.\n".encode() in out
    assert out.count(f"Connection accepted for session {SESSION_ID}.\n".encode()) == 1


def test_the_session_kind_follows_aws_plugins_choice() -> None:
    def kind(session_type: SessionType, properties: dict[str, str], version: str = "3.3.987.0",
             parameters: dict[str, Any] | None = None) -> type:
        async def choose() -> type:
            ctx = SessionContext(SESSION_ID, None, Console(), asyncio.get_running_loop().create_future(),  # type: ignore[arg-type]
                                 version, properties, parameters or {}, False)
            return type(handler_for(HandshakeRequest(version, session_type, properties), ctx))
        return asyncio.run(choose())

    assert kind(SessionType.PORT, MUX) is MuxPortForwarding
    assert kind(SessionType.PORT, MUX, "3.0.196.0") is BasicPortForwarding
    assert kind(SessionType.PORT, MUX, "unknown") is BasicPortForwarding  # AWS: an unreadable version is old
    assert kind(SessionType.PORT, {"portNumber": "22"}) is StandardStreamForwarding  # AWS-StartSSHSession
    assert kind(SessionType.PORT, {"portNumber": "80", "localPortNumber": "8080"}) is BasicPortForwarding
    assert kind(SessionType.PORT, {"portNumber": "80"}, parameters={"localPortNumber": ["8080"]}) \
        is BasicPortForwarding
    for shell in (SessionType.STANDARD_STREAM, SessionType.INTERACTIVE_COMMANDS,
                  SessionType.NON_INTERACTIVE_COMMANDS):
        assert kind(shell, {}) is ShellSession


def test_agent_versions_compare_as_aws_plugin_compares_them() -> None:
    assert agent_version_after("3.0.197.0", "3.0.196.0")
    assert agent_version_after("3.10.0.0", "3.9.1.0")
    assert not agent_version_after("3.0.196.0", "3.0.196.0")
    assert not agent_version_after("3.1", "3.0.196.0")  # different lengths do not compare
    assert not agent_version_after("", "3.0.196.0")


def test_ctrl_c_in_a_port_session_terminates_it_as_aws_plugin_does() -> None:
    agent = FakeAgent(SessionType.PORT, MUX)

    async def scenario() -> tuple[int, bytes]:
        server, url = await serve(agent)
        response = json.dumps({"SessionId": SESSION_ID, "TokenValue": "tok", "StreamUrl": url})
        async with server:
            proc = await asyncio.create_subprocess_exec(
                PLUGIN, response, "us-east-1", "StartSession", "", json.dumps({"Target": TARGET}),
                "http://127.0.0.1:1", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE)
            assert proc.stdout is not None
            seen = b""
            while b"Waiting for connections...\n" not in seen:
                seen += await asyncio.wait_for(proc.stdout.read(1024), 30)
            proc.send_signal(signal.SIGINT)
            rest, _ = await asyncio.wait_for(proc.communicate(), 30)
        return proc.returncode or 0, seen + rest

    code, out = asyncio.run(scenario())
    assert code == 0
    assert out.endswith(f"Terminate signal received, exiting.\n\n\nExiting session with sessionId: {SESSION_ID}.\n\n"
                        .encode())
    assert [e.payload for e in agent.received if e.payload_type == PayloadType.FLAG] == \
        [struct.pack(">I", FlagValue.TERMINATE_SESSION)]
