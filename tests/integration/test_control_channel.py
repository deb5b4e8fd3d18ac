"""The MGS control channel as a real server opens it: token, upgrade, open frame; and what it negotiates."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import websockets
from botocore.awsrequest import AWSRequest

from openssm.agent.client import RoleCredentials, SsmClient
from openssm.protocol import mgs
from openssm.protocol.agent_message import AgentMessage
from tests.integration.test_fleet import activation, node_role
from tests.support.node_client import Node
from tests.support.server import ServerProcess


class SimulatedNode:
    """A node speaking the control channel by hand, to do what a real agent would not (drop a job unacknowledged)."""

    def __init__(self, server: ServerProcess, role: str) -> None:
        node = Node(server).enrol(*activation(server, node_role(server, role)))
        assert node.creds is not None and node.instance_id is not None
        self.server, self.instance_id = server, node.instance_id
        self.creds = RoleCredentials(node.creds.access_key_id, node.creds.secret_access_key,
                                     node.creds.session_token or "", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))

    async def connect(self, **options: object) -> websockets.ClientConnection:
        client = SsmClient(self.server.endpoint, self.server.region)
        path = f"/v1/control-channel/{self.instance_id}"
        request = AWSRequest("POST", self.server.endpoint + path, data=b'{"MessageSchemaVersion":"1.0"}',
                             headers={"Content-Type": "application/json"})
        answer = await asyncio.to_thread(client.send, client.signed(request, self.creds, "ssmmessages"))
        token = answer["_body"].split("<TokenValue>")[1].split("</TokenValue>")[0]
        url = self.server.endpoint.replace("http", "ws") + path + "?role=subscribe&stream=input"
        ws = await websockets.connect(url, **options)  # type: ignore[arg-type]
        await ws.send(mgs.OpenControlChannel(token, "3.3.0.0", "linux").encode())
        return ws

    @staticmethod
    async def next_job(ws: websockets.ClientConnection) -> tuple[AgentMessage, mgs.AgentJob]:
        while True:
            message = AgentMessage.decode(await asyncio.wait_for(ws.recv(), 20))
            if message.message_type == mgs.ControlType.JOB:
                return message, mgs.AgentJob.decode(message)


def test_the_channel_opens_without_compression_whatever_the_client_offers(server: ServerProcess) -> None:
    node = SimulatedNode(server, "ChannelNodes")

    async def extensions() -> str | None:
        ws = await node.connect(compression="deflate")  # offers permessage-deflate
        async with ws:
            assert ws.response is not None
            return ws.response.headers.get("Sec-WebSocket-Extensions")

    # AWS's agent never asks for it; declining it saves every connection its zlib state.
    assert asyncio.run(extensions()) is None


def test_a_job_the_node_never_acknowledged_is_delayed_then_sent_again_when_it_is_back(server: ServerProcess) -> None:
    ssm, node = server.client("ssm"), SimulatedNode(server, "DelayedNodes")

    def invocation(command_id: str) -> tuple[str, str]:
        found = ssm.get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)
        return found["Status"], found["StatusDetails"]

    def wait_for(command_id: str, status: str) -> None:
        deadline = time.monotonic() + 20
        while invocation(command_id)[0] != status:
            assert time.monotonic() < deadline, f"{command_id} still {invocation(command_id)}, not {status}"
            time.sleep(0.2)

    async def scenario() -> None:
        ws = await node.connect()
        command_id = (await asyncio.to_thread(
            ssm.send_command, DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id],
            Parameters={"commands": ["echo hi"]}))["Command"]["CommandId"]
        _, job = await node.next_job(ws)
        assert job.job_id == f"aws.ssm.{command_id}.{node.instance_id}"
        await ws.close()  # gone before acknowledging it
        await asyncio.to_thread(wait_for, command_id, "Delayed")
        assert await asyncio.to_thread(invocation, command_id) == ("Delayed", "Delayed")
        (command,) = (await asyncio.to_thread(ssm.list_commands, CommandId=command_id))["Commands"]
        assert command["Status"] == "InProgress"

        ws = await node.connect()  # back: the job comes again, and is InProgress once more
        message, again = await node.next_job(ws)
        assert again.job_id == job.job_id
        assert await asyncio.to_thread(invocation, command_id) == ("InProgress", "InProgress")
        now = dt.datetime.now(dt.UTC)
        await ws.send(mgs.JobAck(again.job_id, str(message.message_id)).message(now).encode())
        result = mgs.PluginResult("aws:runShellScript", "Success", 0, "hi\n", "")
        await ws.send(mgs.JobReply(again.job_id, "Success", (result,)).message(now).encode())
        await asyncio.to_thread(wait_for, command_id, "Success")
        await ws.close()

    asyncio.run(scenario())
