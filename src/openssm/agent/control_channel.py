"""The agent's end of the MGS control channel (DESIGN §4), as AWS's agent opens and speaks it: `POST
/v1/control-channel/<id>` (SigV4, ssmmessages) for a token, a SigV4-signed WebSocket upgrade, the open frame,
then binary AgentMessages. Each agent_job is acknowledged at once and run once (jobs.py); its replies
(InProgress, then the outcome) are resent with the same message id, on whichever channel is open, until the
service answers agent_job_reply_ack naming that id. Each interactive_shell is acknowledged at once and its
session started once (agent/sessions); when it ends, agent_task_complete is sent (again while the service
has not answered agent_task_acknowledge naming it), and channel_closed ends a running session."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
import ssl
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import websockets

from openssm.agent import sigv4
from openssm.agent.client import Request, RoleCredentials, SsmClient
from openssm.agent.heartbeat import AGENT_VERSION
from openssm.agent.jobs import Jobs
from openssm.agent.plugins.steps import TRUNCATED
from openssm.agent.sessions import SessionOutcome, Sessions
from openssm.agent.sessions.plugin import FinalStatus
from openssm.protocol import mgs, session_tasks
from openssm.protocol.agent_message import AgentMessage, AgentMessageError, json_payload
from openssm.protocol.data_channel import ChannelClosed, MessageType
from openssm.protocol.message_ids import command_id_of
from openssm.protocol.session_tasks import SessionTask, TaskAcknowledge, TaskComplete

log = logging.getLogger(__name__)
RESEND_SECONDS = 3.0
PING_SECONDS = 54.0  # DESIGN §4: pings every 54 s
COMPLETE_SENDS = 5  # agent_task_complete is sent at most this often while unacknowledged


def cancelled_command(content: str) -> str:
    """The command a cancel job names: AWS sends `CancelMessageId` (aws.ssm.<command id>.<instance id>)."""
    try:
        value = json.loads(content)
    except json.JSONDecodeError:
        return ""
    if value.get("CancelMessageId"):
        return command_id_of(str(value["CancelMessageId"]))
    return str(value.get("CancelCommandId") or "")


def fit(reply: mgs.JobReply, now: dt.datetime, agent_version: str) -> AgentMessage:
    """The reply's message, its outputs cut further if escaping made it larger than MGS takes (120,000 bytes)."""
    message = reply.message(now, agent_version)
    while len(message.payload) > mgs.MAX_REPLY_BYTES and any(p.standard_output or p.standard_error
                                                             for p in reply.plugins):
        reply = replace(reply, plugins=tuple(replace(
            p, standard_output=_halve(p.standard_output), standard_error=_halve(p.standard_error))
            for p in reply.plugins))
        message = reply.message(now, agent_version)
    return message


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def _halve(text: str) -> str:
    body = text.removesuffix(TRUNCATED)
    return body[: len(body) // 2] + TRUNCATED if body else ""


class ControlChannel:
    def __init__(self, client: SsmClient, instance_id: str, credentials: Callable[[], RoleCredentials],
                 jobs: Jobs, agent_version: str = AGENT_VERSION, resend_seconds: float = RESEND_SECONDS,
                 sessions: Sessions | None = None) -> None:
        self._client = client
        self._instance_id = instance_id
        self._credentials = credentials
        self._jobs = jobs
        self._agent_version = agent_version
        self._resend = resend_seconds
        self._ws: Any = None  # the channel open now; replies go on whichever is current
        self._acks: dict[str, asyncio.Event] = {}  # by the reply's message id
        self._following: set[str] = set()  # jobs whose replies this process is delivering
        self._sessions = sessions
        self._completing: set[str] = set()  # sessions whose agent_task_complete this process is delivering
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def path(self) -> str:
        return f"/v1/control-channel/{self._instance_id}"

    def _token(self) -> str:
        body = json.dumps({"MessageSchemaVersion": "1.0", "RequestId": str(uuid.uuid4())},
                          separators=(",", ":")).encode()
        request = self._client.signed(Request("POST", self._client.endpoint + self.path,
                                              {"Content-Type": "application/json"}, body),
                                      self._credentials(), "ssmmessages")
        answer = self._client.send(request)
        found = re.search(r"<TokenValue>([^<]+)</TokenValue>", answer.get("_body", ""))
        if not found:
            raise ConnectionError("the control channel was created without a token")
        return found.group(1)

    def _upgrade_headers(self, url: str) -> dict[str, str]:
        """AWS's agent signs the WebSocket upgrade too (host, x-amz-date, x-amz-security-token)."""
        signed = sigv4.sign("GET", url, {}, b"", self._credentials().signing(), self._client.region,
                            "ssmmessages", dt.datetime.now(dt.UTC))
        return {k: v for k, v in signed.items() if k != "Host"}  # the WebSocket client sends Host itself

    async def serve(self, on_open: Callable[[], None] = lambda: None) -> None:
        """Hold the channel until it closes (returns) or fails (raises)."""
        token = await asyncio.to_thread(self._token)
        url = re.sub(r"^http", "ws", self._client.endpoint) + self.path + "?role=subscribe&stream=input"
        headers = await asyncio.to_thread(self._upgrade_headers, url)
        context: ssl.SSLContext | None = self._client.ssl_context() if url.startswith("wss") else None
        async with websockets.connect(url, ssl=context, additional_headers=headers, max_size=None,
                                      ping_interval=PING_SECONDS, ping_timeout=30, open_timeout=30) as ws:
            await ws.send(mgs.OpenControlChannel(token, self._agent_version, "linux").encode())
            self._ws = ws
            log.info("control channel open for %s", self._instance_id)
            on_open()
            try:
                async for frame in ws:
                    if isinstance(frame, bytes):
                        await self._handle(frame)
            finally:
                self._ws = None

    async def _handle(self, frame: bytes) -> None:
        try:
            message = AgentMessage.decode(frame)
            if message.message_type == mgs.ControlType.JOB:
                await self._job(message, mgs.AgentJob.decode(message))
            elif message.message_type == mgs.ControlType.JOB_REPLY_ACK:
                acked = str(json_payload(message.payload, message.message_type).get("acknowledgedMessageId") or "")
                if acked in self._acks:
                    self._acks[acked].set()
            elif message.message_type == session_tasks.INTERACTIVE_SHELL:
                await self._session(message, SessionTask.decode(message))
            elif message.message_type == session_tasks.TASK_ACKNOWLEDGE:
                acked = TaskAcknowledge.decode(message).message_id
                if acked in self._acks:
                    self._acks[acked].set()
            elif message.message_type == MessageType.CHANNEL_CLOSED:
                session_id = ChannelClosed.decode(message).session_id
                ended = self._sessions is not None and self._sessions.terminate(session_id)
                log.info("channel_closed for session %s: %s", session_id, "ending it" if ended else "not running")
        except AgentMessageError as err:
            log.warning("dropped a control channel message: %s", err)

    async def _job(self, message: AgentMessage, job: mgs.AgentJob) -> None:
        ack = mgs.JobAck(job.job_id, str(message.message_id)).message(dt.datetime.now(dt.UTC))
        await self._ws.send(ack.encode())
        if job.topic.startswith(mgs.CANCEL_COMMAND_TOPIC):
            command_id = cancelled_command(job.content)
            log.info("cancel of %s: %s", command_id, "killed" if self._jobs.cancel(command_id) else "not running")
        elif job.topic.startswith(mgs.SEND_COMMAND_TOPIC) and job.job_id not in self._following:
            self._following.add(job.job_id)
            task = asyncio.create_task(self._follow(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _session(self, message: AgentMessage, task: SessionTask) -> None:
        ack = TaskAcknowledge(task.task_id, str(message.message_id), task.topic).message(_now_ms())
        await self._ws.send(ack.encode())
        if task.session_id in self._completing:
            return  # running, or its completion is being delivered
        self._completing.add(task.session_id)
        follower = asyncio.create_task(self._complete(task))
        self._tasks.add(follower)
        follower.add_done_callback(self._tasks.discard)

    async def _complete(self, task: SessionTask) -> None:
        """Run the session (once, whichever channel brings its task) and report its end."""
        try:
            if self._sessions is None:
                outcome = SessionOutcome(FinalStatus.FAILED, "this agent does not run sessions")
            else:
                run, started = self._sessions.start(task)
                log.info("session %s (%s) %s", task.session_id, task.document_name,
                         "started" if started else "already known")
                outcome = await asyncio.shield(run)
            complete = TaskComplete(task.task_id, outcome.status.value, instance_id=self._instance_id,
                                    output=outcome.output, topic=task.topic)
            await self._deliver_complete(complete.message(_now_ms()))
        finally:
            self._completing.discard(task.session_id)

    async def _deliver_complete(self, message: AgentMessage) -> None:
        key = str(message.message_id)
        acked = self._acks[key] = asyncio.Event()
        encoded, sends = message.encode(), 0
        try:
            while not acked.is_set() and sends < COMPLETE_SENDS:
                try:
                    if self._ws is not None:
                        await self._ws.send(encoded)
                        sends += 1
                except Exception as err:  # the channel is down; the next attempt uses the reconnected one
                    log.info("agent_task_complete not sent yet: %s", err)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(acked.wait(), self._resend)
        finally:
            self._acks.pop(key, None)

    async def _follow(self, job: mgs.AgentJob) -> None:
        """Run the job once and deliver its replies, even across reconnects."""
        try:
            # Run and recorded by command id, whichever channel brings the job; replies name the job.
            future = self._jobs.submit(command_id_of(job.job_id), job.content)
            if not future.done():
                progress = asyncio.create_task(self._deliver(mgs.JobReply(job.job_id, "InProgress")))
                try:
                    reply = await asyncio.wrap_future(future)
                finally:
                    progress.cancel()  # the outcome supersedes it
            else:
                reply = future.result()
            await self._deliver(replace(reply, job_id=job.job_id))
        finally:
            self._following.discard(job.job_id)

    async def _deliver(self, reply: mgs.JobReply) -> None:
        data = fit(reply, dt.datetime.now(dt.UTC), self._agent_version)
        key = str(data.message_id)
        acked = self._acks[key] = asyncio.Event()
        encoded = data.encode()
        try:
            while not acked.is_set():
                try:
                    if self._ws is not None:
                        await self._ws.send(encoded)
                except Exception as err:  # the channel is down; the next attempt uses the reconnected one
                    log.info("reply for %s not sent yet: %s", reply.job_id, err)
                try:
                    await asyncio.wait_for(acked.wait(), self._resend)
                except TimeoutError:
                    continue
        finally:
            self._acks.pop(key, None)
