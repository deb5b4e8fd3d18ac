"""The agent's end of the MGS control channel (DESIGN §4): open it with SigV4 and a token, then take
Run Command jobs: acknowledge each, run it once (jobs.py), reply InProgress and then the outcome, resending
the outcome until the service acknowledges it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import ssl
import uuid
from collections.abc import Callable
from typing import Any

import websockets
from botocore.awsrequest import AWSRequest

from openssm.agent import run_shell
from openssm.agent.client import RoleCredentials, SsmClient
from openssm.agent.jobs import run_job
from openssm.agent.state import StateDir
from openssm.protocol import mgs
from openssm.protocol.agent_message import AgentMessage

log = logging.getLogger(__name__)
RESEND_SECONDS = 2.0


class ControlChannelClient:
    def __init__(self, client: SsmClient, instance_id: str, credentials: Callable[[], RoleCredentials],
                 state: StateDir, agent_version: str, ca_bundle: str | None = None) -> None:
        self._client = client
        self._instance_id = instance_id
        self._credentials = credentials
        self._state = state
        self._agent_version = agent_version
        self._ssl = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
        self._acked: dict[str, asyncio.Event] = {}
        self._active: set[str] = set()  # jobs running in this process: a redelivery must not start another
        self._ws: Any = None  # the channel open now; replies go on whichever is current

    def _token(self) -> str:
        path = f"/v1/control-channel/{self._instance_id}"
        request = AWSRequest("POST", self._client.endpoint + path, data=json.dumps(
            {"MessageSchemaVersion": "1.0", "RequestId": str(uuid.uuid4())}).encode(),
            headers={"Content-Type": "application/json"})
        answer = self._client.send(self._client.signed(request, self._credentials(), "ssmmessages"))
        found = re.search(r"<TokenValue>([^<]+)</TokenValue>", answer.get("_body", ""))
        if not found:
            raise ConnectionError("the control channel answered without a token")
        return found.group(1)

    async def serve(self) -> None:
        token = await asyncio.to_thread(self._token)
        url = re.sub(r"^http", "ws", self._client.endpoint) + \
            f"/v1/control-channel/{self._instance_id}?role=subscribe&stream=input"
        async with websockets.connect(url, ssl=self._ssl if url.startswith("wss") else None, max_size=None,
                                      ping_interval=54) as ws:
            await ws.send(mgs.OpenControlChannel(token, self._agent_version, "linux").encode())
            self._ws = ws
            log.info("control channel open for %s", self._instance_id)
            async for frame in ws:
                if isinstance(frame, bytes):
                    await self._handle(ws, AgentMessage.decode(frame))

    async def _handle(self, ws: Any, message: AgentMessage) -> None:
        if message.message_type == mgs.ControlType.JOB:
            job = mgs.AgentJob.decode(message)
            await ws.send(mgs.JobAck(job.job_id, str(message.message_id)).message(dt.datetime.now(dt.UTC)).encode())
            if job.topic == mgs.SEND_COMMAND_TOPIC and job.job_id not in self._active:
                self._active.add(job.job_id)
                asyncio.create_task(self._run(job))
            elif job.topic == mgs.CANCEL_COMMAND_TOPIC:
                run_shell.cancel(str(json.loads(job.content).get("CancelCommandId", "")))
        elif message.message_type == mgs.ControlType.JOB_REPLY_ACK:
            acked = json.loads(message.payload).get("jobId", "")
            if acked in self._acked:
                self._acked[acked].set()

    async def _run(self, job: mgs.AgentJob) -> None:
        """Run the job once, then report its outcome on the current channel until it is acknowledged, even
        across reconnects (the job may have arrived on a channel that has since closed)."""
        try:
            if self._state.job(job.job_id) is None:
                await self._send(mgs.JobReply(job.job_id, "InProgress"))
            reply = await asyncio.to_thread(run_job, job.job_id, job.content, self._state)
            acked = self._acked.setdefault(job.job_id, asyncio.Event())
            while not acked.is_set():
                await self._send(reply)
                try:
                    await asyncio.wait_for(acked.wait(), RESEND_SECONDS)
                except TimeoutError:
                    continue
        finally:
            self._acked.pop(job.job_id, None)
            self._active.discard(job.job_id)

    async def _send(self, reply: mgs.JobReply) -> None:
        try:
            await self._ws.send(reply.message(dt.datetime.now(dt.UTC), self._agent_version).encode())
        except Exception as err:  # the channel is down; the next attempt uses the reconnected one
            log.info("reply for %s not sent yet: %s", reply.job_id, err)
