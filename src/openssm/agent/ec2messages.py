"""The agent's fallback delivery channel, ec2messages (JSON 1.1, target EC2WindowsMessageDeliveryService,
signing name ec2messages), polled while the control channel cannot be opened, as AWS's agent does
(agent/messageservice/interactor/mdsinteractor): GetMessages; for a command, SendReply InProgress,
AcknowledgeMessage, run it once (jobs.py), SendReply the outcome; a cancel ends the named command; a message
of another topic gets FailMessage."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from openssm.agent.client import EC2MESSAGES_TARGET, CallFailed, RoleCredentials, SsmClient
from openssm.agent.control_channel import cancelled_command
from openssm.agent.heartbeat import AGENT_VERSION
from openssm.agent.jobs import Jobs
from openssm.agent.state import StateDir
from openssm.protocol import mgs
from openssm.protocol.message_ids import command_id_of

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0  # AWS's agent polls again five seconds after an empty answer (golden capture)
VISIBILITY_SECONDS = 10
REPLY_ATTEMPTS = 3
_REQUIRED = ("Topic", "Destination", "MessageId", "CreatedDate")


class MessagePoller:
    def __init__(self, client: SsmClient, instance_id: str, credentials: Callable[[], RoleCredentials],
                 jobs: Jobs | StateDir, agent_version: str = AGENT_VERSION) -> None:
        self._client = client
        self._instance_id = instance_id
        self._credentials = credentials
        self._jobs = jobs if isinstance(jobs, Jobs) else Jobs(jobs)
        self._agent_version = agent_version

    def _call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._client.call(operation, body, self._credentials(), prefix=EC2MESSAGES_TARGET,
                                 service="ec2messages")

    def fetch(self) -> list[dict[str, Any]]:
        answer = self._call("GetMessages", {"Destination": self._instance_id, "MessagesRequestId": str(uuid.uuid4()),
                                            "VisibilityTimeoutInSeconds": VISIBILITY_SECONDS})
        return [m for m in answer.get("Messages") or [] if isinstance(m, dict)]

    def _reply(self, message_id: str, reply: mgs.JobReply) -> None:
        payload = json.dumps(reply.content(dt.datetime.now(dt.UTC), self._agent_version), separators=(",", ":"))
        for attempt in range(REPLY_ATTEMPTS):
            try:
                self._call("SendReply", {"MessageId": message_id, "Payload": payload, "ReplyId": str(uuid.uuid4())})
                return
            except CallFailed as err:
                log.warning("SendReply for %s failed (attempt %d): %s", message_id, attempt + 1, err)
                time.sleep(2 ** attempt)

    def handle(self, message: dict[str, Any]) -> None:
        """Take one message; returns once a command it carries has run and its outcome is sent."""
        if any(not message.get(k) for k in _REQUIRED):
            log.error("message not valid, ignoring: %s", message.get("MessageId"))
            return
        message_id, topic = str(message["MessageId"]), str(message["Topic"])
        if topic.startswith(mgs.CANCEL_COMMAND_TOPIC):
            self._jobs.cancel(cancelled_command(str(message.get("Payload") or "")))
            self._call("AcknowledgeMessage", {"MessageId": message_id})
            return
        if not topic.startswith(mgs.SEND_COMMAND_TOPIC):
            self._call("FailMessage", {"MessageId": message_id, "FailureType": "InternalHandlerException"})
            return
        job_id = command_id_of(message_id)
        future = self._jobs.submit(job_id, str(message.get("Payload") or ""))
        if not future.done():
            self._reply(message_id, mgs.JobReply(job_id, "InProgress"))
        self._call("AcknowledgeMessage", {"MessageId": message_id})
        self._reply(message_id, future.result())

    def poll_once(self) -> int:
        """Take, run and answer what is waiting, one message after the other; the number of messages."""
        messages = self.fetch()
        for message in messages:
            self.handle(message)
        return len(messages)

    async def poll_for(self, seconds: float) -> None:
        """Poll for a while; each message is handled on its own thread, so a cancel can reach a running job."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        handling: set[asyncio.Future[None]] = set()
        while loop.time() < deadline:
            for message in await asyncio.to_thread(self.fetch):
                task = asyncio.ensure_future(asyncio.to_thread(self._handle_logged, message))
                handling.add(task)
                task.add_done_callback(handling.discard)
            await asyncio.sleep(POLL_SECONDS)

    def _handle_logged(self, message: dict[str, Any]) -> None:
        try:
            self.handle(message)
        except CallFailed as err:
            log.warning("ec2messages message %s: %s", message.get("MessageId"), err)
