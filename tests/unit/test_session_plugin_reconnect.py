"""The plugin when its WebSocket drops without a channel_closed: ResumeSession (a local HTTP stand-in for ssm),
the new stream URL and token, and the same data-channel endpoint, so nothing is lost or delivered twice;
AWS's answers when the session timed out meanwhile or the channel does not come back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openssm.cli.session_client import RetryPolicy, SsmResumer
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import SessionType
from tests.unit.test_session_plugin_fake_agent import (
    SESSION_ID,
    FakeAgent,
    FakeSsm,
    PluginRun,
    credentials,
    eventually,
    run_plugin,
)


def quick_retries() -> RetryPolicy:
    return RetryPolicy(initial_ms=1)


def printed(run: PluginRun) -> bytes:
    """What the agent's output put on stdout, without the plugin's opening and closing lines."""
    text = run.stdout.getvalue()
    start = text.index(b"\n", len(b"\nStarting session with SessionId: ")) + 1
    return text[start:text.rindex(b"\n\nExiting session")]


def test_a_dropped_websocket_is_resumed_without_losing_or_repeating_a_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    agent = FakeAgent(SessionType.STANDARD_STREAM, tokens={"tok", "tok-2"})

    def resume(request: dict[str, Any]) -> dict[str, Any]:
        return {"SessionId": request["SessionId"], "TokenValue": "tok-2", "StreamUrl": agent.url + "&resumed=1"}

    async def scenario(run: PluginRun) -> None:
        await agent.ready.wait()
        run.type(b"part1-")
        await eventually(lambda: agent.input_bytes() == b"part1-")
        await agent.send(PayloadType.OUTPUT, b"out1-")
        await run.stdout.wait_for(b"out1-")
        agent.ignore_acks = True  # the plugin's acknowledgement of "dup-" is lost: it will come again
        await agent.send(PayloadType.OUTPUT, b"dup-")
        await run.stdout.wait_for(b"dup-")
        agent.drop()
        agent.ignore_acks = False
        await agent.send(PayloadType.OUTPUT, b"out2-")  # while the channel is down, on either side
        run.type(b"part2-")
        await eventually(lambda: agent.input_bytes() == b"part1-part2-")
        await run.stdout.wait_for(b"out2-")
        run.type(b"part3-")
        await agent.send(PayloadType.OUTPUT, b"out3-")
        await eventually(lambda: agent.input_bytes() == b"part1-part2-part3-")
        await run.stdout.wait_for(b"out3-")

    with FakeSsm({"ResumeSession": resume}) as ssm:
        resumer = SsmResumer("us-east-1", "", ssm.url)
        code, run = asyncio.run(run_plugin(agent, scenario, resumer=resumer, retry=quick_retries))

    assert code == 0
    assert printed(run) == b"out1-dup-out2-out3-"
    assert agent.input_bytes() == b"part1-part2-part3-"
    assert ssm.calls == [("ResumeSession", {"SessionId": SESSION_ID})]
    (first_path, first), (second_path, second) = agent.opened
    assert (first.token, second.token) == ("tok", "tok-2") and first.client_id == second.client_id
    assert second_path.endswith("&resumed=1") and not first_path.endswith("&resumed=1")


def test_a_session_that_timed_out_while_the_channel_was_down_ends_as_aws_plugin_ends_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    agent = FakeAgent(SessionType.STANDARD_STREAM)

    async def scenario(run: PluginRun) -> None:
        await agent.ready.wait()
        agent.drop()

    with FakeSsm({"ResumeSession": lambda request: {"SessionId": SESSION_ID}}) as ssm:
        code, run = asyncio.run(run_plugin(agent, scenario, close_at_end=False,
                                           resumer=SsmResumer("us-east-1", "", ssm.url), retry=quick_retries))
    assert code == 0
    assert run.stdout.getvalue().endswith(f"Session: {SESSION_ID} timed out.\n".encode())


def test_the_plugin_gives_up_after_awss_five_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    agent = FakeAgent(SessionType.STANDARD_STREAM)
    nowhere = "ws://127.0.0.1:1/v1/data-channel/s-1"

    async def scenario(run: PluginRun) -> None:
        await agent.ready.wait()
        agent.drop()

    with FakeSsm({"ResumeSession": lambda request: {"TokenValue": "tok-2", "StreamUrl": nowhere}}) as ssm:
        code, run = asyncio.run(run_plugin(agent, scenario, close_at_end=False,
                                           resumer=SsmResumer("us-east-1", "", ssm.url), retry=quick_retries))
    assert code == 1
    assert len(ssm.calls) == 1 + 5
    assert run.stderr.getvalue().startswith(f"\nSessionId: {SESSION_ID} : the data channel could not be resumed: "
                                            .encode())


def test_a_channel_refused_before_its_handshake_is_not_resumed(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials(monkeypatch)
    agent = FakeAgent(SessionType.STANDARD_STREAM, tokens={"another"})
    with FakeSsm({}) as ssm:
        code, run = asyncio.run(run_plugin(agent, lambda run: asyncio.sleep(0), close_at_end=False,
                                           resumer=SsmResumer("us-east-1", "", ssm.url), retry=quick_retries))
    assert code == 1 and ssm.calls == []
    assert run.stderr.getvalue() == f"\nSessionId: {SESSION_ID} : the data channel was closed: bad token\n".encode()


def test_retries_wait_as_aws_plugin_waits() -> None:
    assert list(RetryPolicy(100).delays()) == [0.1, 0.2, 0.4, 0.8, 1.6]
    assert list(RetryPolicy(1000).delays()) == [1.0, 2.0, 4.0, 1.0, 2.0]  # past 5 s it starts over
    assert RetryPolicy.aws(rand=lambda n: n - 1).initial_ms == 199
    assert 100 <= RetryPolicy.aws().initial_ms < 200
