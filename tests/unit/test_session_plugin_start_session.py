"""`openssm start-session`: StartSession through botocore (a local stand-in for ssm), then the session run in
the same process by the plugin's code, exiting with the remote command's status; the --parameters forms; and
`aws ssm start-session` (awscli) still driving the session-manager-plugin console script."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from typing import Any

import click
import pytest

from openssm.cli.start_session import parse_parameters
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import SessionType
from tests.unit.test_session_plugin_fake_agent import SESSION_ID, TARGET, FakeAgent, FakeSsm, serve

BIN = os.path.dirname(sys.executable)
OPENSSM = shutil.which("openssm") or os.path.join(BIN, "openssm")
AWS = shutil.which("aws") or os.path.join(BIN, "aws")
ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_CONFIG_FILE": "/nonexistent",
       "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}


def test_start_session_starts_the_session_and_exits_with_the_commands_status() -> None:
    agent = FakeAgent(SessionType.NON_INTERACTIVE_COMMANDS)

    async def command() -> None:
        await agent.send(PayloadType.OUTPUT, b"up 3 days\n")
        await agent.send(PayloadType.EXIT_CODE, b"EXIT_CODE: 5")
        await agent.close_channel()
    agent.on_ready = command

    async def scenario() -> tuple[int, bytes, list[tuple[str, dict[str, Any]]]]:
        server, url = await serve(agent)
        answer = {"SessionId": SESSION_ID, "TokenValue": "tok", "StreamUrl": url}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | ENV
        with FakeSsm({"StartSession": lambda request: answer}) as ssm:
            async with server:
                proc = await asyncio.create_subprocess_exec(
                    OPENSSM, "start-session", "--target", TARGET, "--document-name",
                    "AWS-StartNonInteractiveCommandSession", "--parameters", "command=uptime", "--reason", "checking",
                    "--endpoint-url", ssm.url, "--region", "eu-west-1", env=env, stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE)
                out, _ = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out, ssm.calls

    code, out, calls = asyncio.run(scenario())
    assert code == 5
    assert out.startswith(f"\nStarting session with SessionId: {SESSION_ID}\nup 3 days\n".encode())
    assert calls == [("StartSession", {"Target": TARGET, "DocumentName": "AWS-StartNonInteractiveCommandSession",
                                       "Parameters": {"command": ["uptime"]}, "Reason": "checking"})]


def test_the_aws_cli_drives_the_plugin_console_script() -> None:
    agent = FakeAgent(SessionType.NON_INTERACTIVE_COMMANDS)

    async def command() -> None:
        await agent.send(PayloadType.OUTPUT, b"hi from the node\n")
        await agent.close_channel()
    agent.on_ready = command

    async def scenario() -> tuple[int, bytes]:
        server, url = await serve(agent)
        answer = {"SessionId": SESSION_ID, "TokenValue": "tok", "StreamUrl": url}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | ENV
        env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
        with FakeSsm({"StartSession": lambda request: answer}) as ssm:
            async with server:
                proc = await asyncio.create_subprocess_exec(
                    AWS, "ssm", "start-session", "--target", TARGET, "--endpoint-url", ssm.url, "--region",
                    "us-east-1", env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE)
                out, _ = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out

    code, out = asyncio.run(scenario())
    assert code == 0 and b"hi from the node\n" in out
    assert agent.opened and agent.opened[0][1].token == "tok"


def test_parameters_are_read_as_json_or_as_the_aws_clis_shorthand() -> None:
    assert parse_parameters(['{"portNumber": ["80"], "localPortNumber": "8080"}']) == \
        {"portNumber": ["80"], "localPortNumber": ["8080"]}
    assert parse_parameters(["portNumber=80,localPortNumber=8080"]) == \
        {"portNumber": ["80"], "localPortNumber": ["8080"]}
    assert parse_parameters(['portNumber=["80"]', "host=db.internal"]) == \
        {"portNumber": ["80"], "host": ["db.internal"]}
    assert parse_parameters(["commands=[uptime,df -h]"]) == {"commands": ["uptime", "df -h"]}
    assert parse_parameters(["commands=uptime,df -h"]) == {"commands": ["uptime", "df -h"]}
    assert parse_parameters([]) == {}
    with pytest.raises(click.BadParameter):
        parse_parameters(["uptime"])
    with pytest.raises(click.BadParameter):
        parse_parameters(['["80"]'])
