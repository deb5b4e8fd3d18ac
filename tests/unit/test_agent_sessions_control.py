"""Sessions on the control channel: interactive_shell is acknowledged at once and its session run once,
however often it comes; agent_task_complete reports the end and is sent again until the service acknowledges
it; channel_closed on the control channel ends a running session."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from openssm.agent.client import SsmClient
from openssm.agent.control_channel import ControlChannel
from openssm.agent.jobs import Jobs
from openssm.agent.sessions import MgsDataChannels, Sessions, SessionUsers
from openssm.agent.state import StateDir
from openssm.protocol.agent_message import AgentMessage
from openssm.protocol.data_channel import ChannelClosed
from openssm.protocol.data_channel_endpoint import HandshakeCompleted
from openssm.protocol.session_tasks import TaskAcknowledge
from tests.unit.test_agent_sessions_harness import (
    CREDENTIALS,
    INSTANCE_ID,
    SESSION_ID,
    SHELL_DOCUMENT,
    FakeMgs,
    task,
)


def control_channel(fake: FakeMgs, tmp_path: Path) -> ControlChannel:
    client = SsmClient(fake.endpoint, "us-east-1")
    sessions = Sessions(MgsDataChannels(client, lambda: CREDENTIALS, INSTANCE_ID).connector,
                        agent_version="3.3.0.0", users=SessionUsers(is_root=lambda: False))
    return ControlChannel(client, INSTANCE_ID, lambda: CREDENTIALS, Jobs(StateDir(tmp_path / "state")),
                          resend_seconds=0.2, sessions=sessions)


def payload(message: AgentMessage) -> dict[str, object]:
    return dict(json.loads(message.payload))


def test_a_session_task_is_acknowledged_run_once_and_completed_until_acknowledged(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            serving = asyncio.create_task(control_channel(fake, tmp_path).serve())
            sent = task(SHELL_DOCUMENT).message(int(time.time() * 1000))
            await fake.to_control_channel(sent)
            await fake.wait_for(lambda: any(isinstance(e, HandshakeCompleted) for e in fake.events))
            again = task(SHELL_DOCUMENT).message(int(time.time() * 1000))
            await fake.to_control_channel(again)  # a control channel that reconnected sends it again
            await fake.wait_for(lambda: len(fake.of_type("agent_task_acknowledge")) == 2)
            acks = [payload(m) for m in fake.of_type("agent_task_acknowledge")]
            assert acks[0] == {"SchemaVersion": 1, "MessageId": str(sent.message_id), "TaskId": SESSION_ID,
                               "Topic": "aws.ssm.startSession"}
            assert acks[1]["MessageId"] == str(again.message_id)

            await fake.type("exit\n")
            await fake.wait_for(lambda: len(fake.of_type("agent_task_complete")) >= 2)
            completes = fake.of_type("agent_task_complete")
            assert len({m.message_id for m in completes}) == 1  # resent as the same message
            complete = payload(completes[0])
            assert (complete["TaskId"], complete["FinalTaskStatus"], complete["InstanceId"], complete["Output"]) == (
                SESSION_ID, "Success", INSTANCE_ID, "")
            await fake.to_control_channel(TaskAcknowledge(SESSION_ID, str(completes[0].message_id)).message(0))
            await asyncio.sleep(0.2)
            count = len(fake.of_type("agent_task_complete"))
            await asyncio.sleep(0.6)
            assert len(fake.of_type("agent_task_complete")) == count
            assert len(fake.opens) == 1  # one session, one data channel
            serving.cancel()

    asyncio.run(scenario())


def test_channel_closed_on_the_control_channel_terminates_the_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            serving = asyncio.create_task(control_channel(fake, tmp_path).serve())
            await fake.to_control_channel(task(SHELL_DOCUMENT).message(int(time.time() * 1000)))
            await fake.wait_for(lambda: any(isinstance(e, HandshakeCompleted) for e in fake.events))
            await fake.to_control_channel(ChannelClosed(SESSION_ID, INSTANCE_ID).message(int(time.time() * 1000)))
            await fake.wait_for(lambda: bool(fake.of_type("agent_task_complete")))
            assert payload(fake.of_type("agent_task_complete")[0])["FinalTaskStatus"] == "Terminated"
            serving.cancel()

    asyncio.run(scenario())


def test_a_session_that_cannot_start_is_completed_as_failed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            serving = asyncio.create_task(control_channel(fake, tmp_path).serve())
            await fake.to_control_channel(task({"schemaVersion": "1.0", "sessionType": "Unknown"}).message(0))
            await fake.wait_for(lambda: bool(fake.of_type("agent_task_complete")))
            complete = payload(fake.of_type("agent_task_complete")[0])
            assert complete["FinalTaskStatus"] == "Failed" and "Unknown" in str(complete["Output"])
            assert not fake.opens
            serving.cancel()

    asyncio.run(scenario())
