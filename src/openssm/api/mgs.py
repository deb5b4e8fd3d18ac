"""The MGS control channel (ssmmessages, DESIGN §3–4): `POST /v1/control-channel/<instanceId>` (SigV4 with
the node's own credentials) answers a token; the WebSocket `/v1/control-channel/<instanceId>` opens with it
and then carries Run Command jobs to the node and its replies back.

The token binds the instance and expires with the node's credentials' typical lifetime; it is an HMAC
under a key derived from the master key, so any replica can check it.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from openssm.api.auth import Authenticator, IncomingRequest
from openssm.api.headers import header_map
from openssm.bus.local import Deliverable, Mailbox
from openssm.container import Container
from openssm.errors import AwsError
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.protocol import mgs, session_tasks
from openssm.protocol.agent_message import AgentMessage, AgentMessageError
from openssm.protocol.message_ids import cancel_message_id, command_id_of, run_command_message_id
from openssm.services import command_delivery, commands, instances, sessions

log = logging.getLogger(__name__)
TOKEN_LIFETIME = dt.timedelta(hours=1)
POLL_SECONDS = 2.0
SEEN_EVERY = dt.timedelta(minutes=1)
TOKEN_KEY_LABEL = b"openssm/mgs-token"


class ChannelTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, instance_id: str, now: dt.datetime) -> str:
        """A token for `instance_id`: a node's id, or any other subject (a session's data channel)."""
        expiry = str(int((now + TOKEN_LIFETIME).timestamp()))
        body = f"{instance_id}|{expiry}"
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
        return base64.urlsafe_b64encode(f"{body}|{mac}".encode()).decode()

    def valid(self, token: str, instance_id: str, now: dt.datetime) -> bool:
        try:
            body, _, mac = base64.urlsafe_b64decode(token.encode()).decode().rpartition("|")
            owner, _, expiry = body.partition("|")
            good = hmac.compare_digest(mac, hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest())
            return good and owner == instance_id and int(expiry) > now.timestamp()
        except (ValueError, UnicodeDecodeError):
            return False


def channel_tokens(container: Container) -> ChannelTokens:
    return ChannelTokens(container.box.derive_key(TOKEN_KEY_LABEL))


def json_error(message: str, status: int) -> Response:
    return Response(json.dumps({"message": message}), status_code=status, media_type="application/json")


async def signing_node(container: Container, authenticator: Authenticator, request: Request,
                       action: str) -> str | Response:
    """The managed node whose credentials signed `request` (SigV4, service ssmmessages) and whose policies allow
    `action` (ssmmessages:CreateControlChannel or CreateDataChannel: AWS's managed policies for nodes grant
    them, and a role without them keeps its node off Session Manager and the control channel); or the error."""
    incoming = IncomingRequest(request.method, request.url.path, request.url.query,
                               header_map(request.scope["headers"]), await request.body())

    def authorized_node() -> str | None:
        info = authenticator.signature_scope(incoming)
        authed = authenticator.authenticate(incoming, info, "json", container.clock.now(), "ssmmessages")
        caller = authed.caller
        if caller.instance_id is None:
            return None
        facts = CallFacts(caller, authed.region, request.client.host if request.client else "",
                          request.url.scheme in ("https", "wss"), container.clock.now(),
                          incoming.headers.get("user-agent", ""))
        container.authorizer.authorize(facts, action, [AuthorizationTarget("*", {})], {})
        return caller.instance_id

    try:
        node = await run_in_threadpool(authorized_node)
    except AwsError as err:
        return json_error(err.message, err.status)
    return node or json_error("Forbidden", 403)


def routes(container: Container, authenticator: Authenticator) -> list[Route | WebSocketRoute]:
    tokens = channel_tokens(container)

    async def create_control_channel(request: Request) -> Response:
        instance_id = request.path_params["instance_id"]
        node = await signing_node(container, authenticator, request, "ssmmessages:CreateControlChannel")
        if isinstance(node, Response):
            return node
        if node != instance_id:
            return json_error("Forbidden", 403)
        return Response(mgs.create_channel_response(tokens.issue(instance_id, container.clock.now())),
                        status_code=201, media_type="application/xml")

    async def control_channel(websocket: WebSocket) -> None:
        instance_id = websocket.path_params["instance_id"]
        await websocket.accept()
        try:
            opened = mgs.OpenControlChannel.decode(await asyncio.wait_for(websocket.receive_text(), 30))
        except (TimeoutError, AgentMessageError, WebSocketDisconnect, KeyError):
            await websocket.close(1008)
            return
        if not tokens.valid(opened.token, instance_id, container.clock.now()):
            await websocket.close(1008, "invalid token")
            return
        await ControlChannel(container, websocket, instance_id).run()

    return [Route("/v1/control-channel/{instance_id}", create_control_channel, methods=["POST"]),
            WebSocketRoute("/v1/control-channel/{instance_id}", control_channel)]


class ControlChannel:
    """One node's open channel: sends each job it is owed once per connection, records its replies."""

    def __init__(self, container: Container, websocket: WebSocket, instance_id: str) -> None:
        self._container = container
        self._ws = websocket
        self._instance_id = instance_id
        self._sent: set[str] = set()
        self._unacked: set[str] = set()  # jobs sent on this connection that the node has not acknowledged
        self._counted = False  # as a heartbeat, on opening; then StoreWatcher counts every channel at once

    async def run(self) -> None:
        hub = self._container.command_hub
        box = hub.register(self._instance_id, asyncio.get_running_loop())
        self._sent = box.sent
        deliver = asyncio.create_task(self._deliver(box))
        try:
            while True:
                data = await self._ws.receive_bytes()
                await self._handle(AgentMessage.decode(data))
        except (WebSocketDisconnect, RuntimeError):
            pass
        except AgentMessageError as err:
            log.warning("control channel of %s: %s", self._instance_id, err)
        finally:
            deliver.cancel()
            hub.unregister(self._instance_id, box)
            # Unless the node is already back on a new channel (which has sent them again).
            if self._unacked and not hub.connected(self._instance_id):
                await self._delay_unacknowledged()

    async def _delay_unacknowledged(self) -> None:
        def mark() -> None:
            with self._container.db.begin() as conn:
                command_delivery.mark_delayed(conn, self._instance_id, sorted(self._unacked))
        try:
            await run_in_threadpool(mark)
        except Exception:
            log.exception("marking %s's unacknowledged jobs Delayed failed", self._instance_id)

    async def _deliver(self, box: Mailbox) -> None:
        """Send what the node is owed: jobs handed over by SendCommand at once, and what the store says on
        connecting and whenever asked to look (StoreWatcher asks for work started by another process)."""
        look = True
        while True:
            if box.closing:
                await self._ws.close(1008, "the node's credentials were revoked")
                return
            jobs, asked = box.take()
            if look or asked:
                jobs += await run_in_threadpool(self._owed)
            for job in jobs:
                if job.job_id not in self._sent:
                    self._sent.add(job.job_id)
                    if job.topic.startswith(mgs.SEND_COMMAND_TOPIC):
                        self._unacked.add(job.job_id)
                    await self._ws.send_bytes(job.message(now_ms()).encode())
            await box.event.wait()
            look = False

    def _owed(self) -> list[Deliverable]:
        """What to send now. Reads answer the common cases (nothing new; jobs already started for this node);
        the write lock is taken only to start a pending job, or to count the opening as a heartbeat."""
        node, now = self._instance_id, self._container.clock.now()
        with self._container.db.read() as conn:
            tasks: list[Deliverable] = [session_task(s) for s in sessions.awaiting(conn, node, now)
                                        if s.session_id not in self._sent]
            if self._counted:
                work = command_delivery.open_work(conn, node)
                new = {job: status for job, status in work.items() if job not in self._sent}
                if not new:
                    return tasks
                if "Pending" not in new.values():
                    return [*tasks, *command_delivery.started_jobs(conn, node),
                            *command_delivery.cancellations_owed(conn, node)]
        with self._container.db.begin() as conn:
            if not self._counted:
                instances.mark_all_seen(conn, [node], now)
                self._counted = True
            return [*tasks, *command_delivery.jobs_owed(conn, node, now),
                    *command_delivery.cancellations_owed(conn, node)]

    async def _handle(self, message: AgentMessage) -> None:
        if message.message_type == session_tasks.TASK_COMPLETE:
            complete = session_tasks.TaskComplete.decode(message)
            await self._session_ended(complete)
            # As AWS's service: the agent resends agent_task_complete until it is acknowledged by message id.
            ack = session_tasks.TaskAcknowledge(complete.task_id, str(message.message_id), complete.topic)
            await self._ws.send_bytes(ack.message(now_ms()).encode())
            return
        if message.message_type == mgs.ControlType.JOB_ACK:
            self._unacked.discard(mgs.JobAck.decode(message).job_id)
            return
        if message.message_type != mgs.ControlType.JOB_REPLY:
            return  # anything newer: nothing to record
        reply = mgs.JobReply.decode(message)
        self._unacked.discard(reply.job_id)
        wake = await asyncio.wrap_future(self._container.command_replies.submit(self._instance_id, reply))
        await self._ws.send_bytes(mgs.reply_ack(reply.job_id, message, now_ms()).encode())
        if reply.document_status in commands.FINAL:  # stored: the store no longer offers it, so forget it
            command_id = command_id_of(reply.job_id)
            self._sent.discard(run_command_message_id(command_id, self._instance_id))
            self._sent.discard(cancel_message_id(command_id, self._instance_id))
        for instance_id in wake:  # a finished invocation may free a MaxConcurrency slot
            self._container.command_hub.notify(instance_id)


    async def _session_ended(self, complete: session_tasks.TaskComplete) -> None:
        """The node ended a session (its shell exited, a timeout, a failure): recorded, and the relay closes
        the client's end."""
        status = "Failed" if complete.final_status in ("Failed", "TimedOut") else "Terminated"

        def record() -> bool:
            with self._container.db.begin() as conn:
                session = sessions.locate(conn, complete.task_id)
                if session is None or session.target != self._instance_id:
                    return False  # a node ends only its own sessions
                sessions.set_status(conn, complete.task_id, status, self._container.clock.now(),
                                    complete.output[:1024])
                return True
        if await run_in_threadpool(record):
            # The client prints the node's closing words (an idle timeout's, a failure's) as AWS's plugin does.
            output = "" if complete.final_status == "Success" else complete.output
            self._container.session_relays.end(complete.task_id, output, now_ms())


def session_task(session: sessions.Session) -> session_tasks.SessionTask:
    """The interactive_shell task that starts `session` on its node."""
    return session_tasks.SessionTask(session.session_id, session.document_name, session.document_content,
                                     {k: list(v) for k, v in session.parameters.items()}, session.run_as_user,
                                     session.owner)


class StoreWatcher:
    """One look at the store for all the control channels this process holds, every POLL_SECONDS (the
    server runs `look` periodically): work started by another process (workers, replicas) reaches its
    channels without a wake-up here. Each channel used to look for itself: with 10,000 channels, 5,000 reads
    a second, more than the server could do. An open channel counts as a heartbeat; all of them are counted
    in one statement every SEEN_EVERY."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._counted_at: dt.datetime | None = None

    def look(self) -> None:
        container, hub = self._container, self._container.command_hub
        now, held = container.clock.now(), hub.held()
        if not held:
            return
        if self._counted_at is None or now - self._counted_at >= SEEN_EVERY:
            with container.db.begin() as conn:
                instances.mark_all_seen(conn, held, now)
            self._counted_at = now
        with container.db.read() as conn:
            cut_off = instances.cut_off_among(conn, held)
            work = command_delivery.open_work_by_node(conn)
            for node, waiting in sessions.awaiting_by_node(conn, now).items():
                work.setdefault(node, set()).update(waiting)
        for instance_id in cut_off:  # deregistered, or its Default Host Management credentials revoked
            hub.close(instance_id)
        for instance_id in hub.unsent(work):  # notify is safe from this worker thread
            hub.notify(instance_id)


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
