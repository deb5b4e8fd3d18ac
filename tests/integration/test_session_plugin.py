"""The `session-manager-plugin` console script against a stand-in agent end: AWS's argv contract (inline
JSON or the AWS_SSM_START_SESSION_RESPONSE variable), the handshake, a shell's size and keystrokes, and a
port session's raw byte stream that ends when stdin closes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys

import pytest

from openssm.cli.session_plugin import ENV_RESPONSE, parse_argv
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import SessionType
from tests.support.stand_in_agent import StandInAgent, serve

PLUGIN = shutil.which("session-manager-plugin") or os.path.join(os.path.dirname(sys.executable),
                                                                 "session-manager-plugin")


async def run_plugin(url: str, stdin: bytes, *, via_env: bool) -> tuple[int, bytes]:
    response = json.dumps({"SessionId": "s-1", "TokenValue": "tok", "StreamUrl": url})
    env = {**os.environ, ENV_RESPONSE: response} if via_env else dict(os.environ)
    proc = await asyncio.create_subprocess_exec(
        PLUGIN, ENV_RESPONSE if via_env else response, "us-east-1", "StartSession", "",
        json.dumps({"Target": "mi-0123456789abcdef0"}), "http://localhost:1", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(stdin), timeout=30)
    return proc.returncode or 0, out


def test_a_shell_session_sends_size_and_keystrokes_and_ends_on_channel_closed() -> None:
    async def scenario() -> tuple[StandInAgent, int, bytes]:
        agent = StandInAgent("tok", SessionType.STANDARD_STREAM, respond=lambda d: b"got:" + d, close_after=b"exit\n")
        server, url = await serve(agent)
        async with server:
            code, out = await run_plugin(url, b"echo hi\nexit\n", via_env=True)
        return agent, code, out

    agent, code, out = asyncio.run(scenario())
    assert code == 0 and agent.handshake_answered
    assert agent.opened is not None and agent.opened.client_version == "1.2.804.0"
    assert agent.received[0].payload_type == PayloadType.SIZE
    assert json.loads(agent.received[0].payload) == {"cols": 80, "rows": 24}
    typed = b"".join(e.payload for e in agent.received if e.payload_type == PayloadType.OUTPUT)
    assert typed == b"echo hi\nexit\n"
    assert out.startswith(b"\nStarting session with SessionId: s-1\n") and b"got:" in out


def test_a_port_session_pipes_raw_bytes_and_ends_when_stdin_closes() -> None:
    async def scenario() -> tuple[StandInAgent, int, bytes]:
        agent = StandInAgent("tok", SessionType.PORT)
        server, url = await serve(agent)
        async with server:
            code, out = await run_plugin(url, b"SSH-2.0-OpenSSH_9.2\r\n", via_env=False)
        return agent, code, out

    agent, code, out = asyncio.run(scenario())
    assert code == 0
    assert all(e.payload_type == PayloadType.OUTPUT for e in agent.received)  # no terminal size for a port
    assert b"".join(e.payload for e in agent.received) == b"SSH-2.0-OpenSSH_9.2\r\n"
    assert out.startswith(b"\nStarting session with SessionId: s-1\n")


def test_a_wrong_token_gets_no_session() -> None:
    async def scenario() -> tuple[StandInAgent, int]:
        agent = StandInAgent("other", SessionType.STANDARD_STREAM)
        server, url = await serve(agent)
        async with server:
            code, _ = await run_plugin(url, b"", via_env=False)
        return agent, code

    agent, code = asyncio.run(scenario())
    assert code == 1 and not agent.handshake_answered and agent.received == []


def test_argv_follows_aws_contract_and_refuses_a_request_without_target() -> None:
    response = json.dumps({"SessionId": "s", "TokenValue": "t", "StreamUrl": "wss://x"})
    start = parse_argv([ENV_RESPONSE, "eu-west-1", "StartSession", "p", '{"Target": "i-1"}', "https://e"],
                       {ENV_RESPONSE: response})
    assert (start.session_id, start.token, start.target) == ("s", "t", "i-1")
    with pytest.raises(SystemExit):
        parse_argv([response, "eu-west-1", "StartSession", "p", "{}", "https://e"], {})
    with pytest.raises(SystemExit):
        parse_argv([response, "eu-west-1"], {})
