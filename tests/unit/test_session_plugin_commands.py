"""Shell and command sessions of the plugin against a fake agent: output to stdout, the agent's error stream to
stderr, its exit code as the plugin's exit status (in process and through the console script), keystrokes
and AWS's closing lines."""

from __future__ import annotations

import asyncio
import json

from openssm.cli.session_client.shell import exit_code
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import SessionType
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


def command_agent(code: bytes | None, session_type: SessionType = SessionType.NON_INTERACTIVE_COMMANDS) -> FakeAgent:
    """An agent that runs 'the command' once the handshake completes: prints, complains, exits."""
    agent = FakeAgent(session_type)

    async def run_command() -> None:
        await agent.send(PayloadType.OUTPUT, b"hello\n")
        await agent.send(PayloadType.STDERR, b"oops\n")
        if code is not None:
            await agent.send(PayloadType.EXIT_CODE, code)
        await agent.close_channel()
    agent.on_ready = run_command
    return agent


async def nothing(run: PluginRun) -> None:
    pass


def test_a_non_interactive_command_splits_its_streams_and_exits_with_the_commands_status() -> None:
    code, run = asyncio.run(run_plugin(command_agent(b"EXIT_CODE: 3"), nothing, close_at_end=False))
    assert code == 3
    assert run.stdout.getvalue() == (f"\nStarting session with SessionId: {SESSION_ID}\nhello\n"
                                     f"\n\nExiting session with sessionId: {SESSION_ID}.\n\n").encode()
    assert run.stderr.getvalue() == b"oops\n"


def test_without_an_exit_code_the_plugin_exits_zero_as_aws_plugin_does() -> None:
    code, _ = asyncio.run(run_plugin(command_agent(None, SessionType.INTERACTIVE_COMMANDS), nothing,
                                     close_at_end=False))
    assert code == 0


def test_the_console_script_exits_with_the_remote_commands_status() -> None:
    async def scenario() -> tuple[int, bytes, bytes]:
        server, url = await serve(command_agent(b"EXIT_CODE: 42"))
        response = json.dumps({"SessionId": SESSION_ID, "TokenValue": "tok", "StreamUrl": url})
        async with server:
            proc = await asyncio.create_subprocess_exec(
                PLUGIN, response, "us-east-1", "StartSession", "", json.dumps({"Target": TARGET}),
                "http://127.0.0.1:1", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        return proc.returncode or 0, out, err

    code, out, err = asyncio.run(scenario())
    assert code == 42 and b"hello\n" in out and err == b"oops\n"


def test_an_interactive_session_sends_the_terminal_size_then_keystrokes_with_enter_as_carriage_return() -> None:
    agent = FakeAgent(SessionType.INTERACTIVE_COMMANDS)

    async def scenario(run: PluginRun) -> None:
        await agent.ready.wait()
        run.type(b"ls -l")
        await eventually(lambda: agent.input_bytes() == b"ls -l")
        run.type(b"\n")
        await eventually(lambda: agent.input_bytes() == b"ls -l\r")

    code, _ = asyncio.run(run_plugin(agent, scenario))
    assert code == 0
    assert agent.received[0].payload_type == PayloadType.SIZE
    assert json.loads(agent.received[0].payload) == {"cols": 80, "rows": 24}


def test_a_channel_closed_with_output_prints_it_as_aws_plugin_does() -> None:
    agent = FakeAgent(SessionType.STANDARD_STREAM)

    async def scenario(run: PluginRun) -> None:
        await agent.ready.wait()
        await agent.close_channel("Session terminated by the administrator")

    code, run = asyncio.run(run_plugin(agent, scenario, close_at_end=False))
    assert code == 0
    assert run.stdout.getvalue().endswith(
        f"\n\nSessionId: {SESSION_ID} : Session terminated by the administrator\n\n".encode())


def test_exit_code_payloads_read_as_the_agent_writes_them() -> None:
    assert exit_code(b"EXIT_CODE: 0") == 0
    assert exit_code(b"EXIT_CODE: 127") == 127
    assert exit_code(b"2") == 2
    assert exit_code(b"EXIT_CODE: ") is None
