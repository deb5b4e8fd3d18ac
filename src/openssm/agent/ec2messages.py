"""The agent's fallback delivery channel: poll ec2messages (GetMessages, AcknowledgeMessage, SendReply) while
the control channel cannot be opened, as AWS's agent does."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Callable

from botocore.awsrequest import AWSRequest

from openssm.agent.client import RoleCredentials, SsmClient
from openssm.agent.jobs import run_job
from openssm.agent.state import StateDir

POLL_SECONDS = 5.0  # AWS's agent's cadence after an empty answer
TARGET = "EC2WindowsMessageDeliveryService"


class MessagePoller:
    def __init__(self, client: SsmClient, instance_id: str, credentials: Callable[[], RoleCredentials],
                 state: StateDir, agent_version: str) -> None:
        self._client = client
        self._instance_id = instance_id
        self._credentials = credentials
        self._state = state
        self._agent_version = agent_version

    def _call(self, operation: str, body: dict[str, object]) -> dict[str, object]:
        request = AWSRequest("POST", self._client.endpoint + "/", data=json.dumps(body).encode(), headers={
            "X-Amz-Target": f"{TARGET}.{operation}", "Content-Type": "application/x-amz-json-1.1"})
        return self._client.send(self._client.signed(request, self._credentials(), "ec2messages"))

    def poll_once(self) -> int:
        """Take, run and answer what is waiting; the number of messages handled."""
        answer = self._call("GetMessages", {"Destination": self._instance_id, "MessagesRequestId": str(uuid.uuid4()),
                                            "VisibilityTimeoutInSeconds": 10})
        messages = answer.get("Messages") or []
        assert isinstance(messages, list)
        for message in messages:
            self._call("AcknowledgeMessage", {"MessageId": message["MessageId"]})
            command_id = json.loads(message["Payload"])["CommandId"]
            reply = run_job(command_id, message["Payload"], self._state)
            content = reply.content(dt.datetime.now(dt.UTC), self._agent_version)
            self._call("SendReply", {"MessageId": message["MessageId"], "ReplyId": str(uuid.uuid4()),
                                     "Payload": json.dumps(content)})
        return len(messages)

    async def poll_for(self, seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.to_thread(self.poll_once)
            await asyncio.sleep(POLL_SECONDS)
