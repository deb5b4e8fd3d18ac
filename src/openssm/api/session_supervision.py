"""A relayed session from its first connection to its end: it ends when an end sends channel_closed, when
TerminateSession or the node's agent_task_complete ends it in the store (seen here within a second, whichever
process took the call), or when its client stays away longer than a resumed client could take. At the end
the recording is closed and the session's metadata (who, target, port, bytes each way, start, end) goes to
the audit trail, for every kind of session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from starlette.concurrency import run_in_threadpool

from openssm.api.mgs import now_ms
from openssm.bus.session_relay import SessionRelay, Side
from openssm.container import Container
from openssm.iam.principals import Caller, PrincipalType
from openssm.services import sessions
from openssm.services.audit_record import ApiCallRecord
from openssm.services.session_recording import SessionRecording, recording_key
from openssm.types import AccountId, Arn

log = logging.getLogger(__name__)
LOOK_SECONDS = 1.0
# How long a session waits for its client to come back (ResumeSession) before it is terminated.
CLIENT_GRACE_SECONDS = 120.0
# Once the node has said a session is ending and closed its data channel, how long agent_task_complete (which
# carries the node's closing words, and travels on a control channel that may be reconnecting) is waited for.
COMPLETION_GRACE_SECONDS = 3.0
SESSION_ENDED_EVENT = "SessionEnded"


async def supervise(container: Container, relay: SessionRelay, session: sessions.Session) -> None:
    loop = asyncio.get_running_loop()
    absent_since: float | None = None
    ending_since: float | None = None
    reason = ""
    try:
        while not relay.ended.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(relay.ended.wait(), LOOK_SECONDS)
            if relay.ended.is_set():
                break
            status = await run_in_threadpool(_status, container, session.session_id)
            if status is None or status in sessions.HISTORY:
                break
            if relay.agent_terminating and not relay.connected(Side.AGENT):
                ending_since = ending_since if ending_since is not None else loop.time()
                if loop.time() - ending_since >= COMPLETION_GRACE_SECONDS:
                    break
            # The client may be held by another process: the store says whether it is connected somewhere.
            if relay.connected(Side.CLIENT) or status == "Connected":
                absent_since = None
            elif absent_since is None:
                absent_since = loop.time()
            elif loop.time() - absent_since > CLIENT_GRACE_SECONDS:
                reason = "the client did not come back"
                break
    except Exception:
        log.exception("session %s: supervision failed", session.session_id)
    finally:
        await relay.close("", now_ms())
        container.session_relays.forget(session.session_id, relay)
        relay.observer.close()
        # Where both ends met, or the agent's end was held: the process that watched the session reports it.
        if relay.agent_joined or not container.session_links.enabled:
            await run_in_threadpool(_finish, container, relay, session, reason)
            if isinstance(relay.observer, SessionRecording) and relay.observer.written:
                await run_in_threadpool(_upload, container, relay.observer, session)
        else:
            await run_in_threadpool(_end, container, session, reason)


def _status(container: Container, session_id: str) -> str | None:
    with container.db.read() as conn:
        return sessions.status_of(conn, session_id)


def _end(container: Container, session: sessions.Session, reason: str) -> sessions.Session | None:
    with container.db.begin() as conn:
        sessions.set_status(conn, session.session_id, "Terminated", container.clock.now(), reason)
        return sessions.locate(conn, session.session_id)


def _finish(container: Container, relay: SessionRelay, session: sessions.Session, reason: str) -> None:
    now = container.clock.now()
    ended = _end(container, session, reason)
    end = ended.ended_at if ended and ended.ended_at else now
    port = (session.parameters.get("portNumber") or [""])[0]
    container.audit.record(ApiCallRecord(
        event_time=end, request_id=str(uuid.uuid4()), service="ssm", event_name=SESSION_ENDED_EVENT,
        region=session.region, source_ip="", user_agent="openssm-relay", caller=owner_caller(session),
        access_key_id="", request_parameters={
            "sessionId": session.session_id, "target": session.target, "owner": session.owner,
            "documentName": session.document_name, "portNumber": port, "reason": session.reason,
            "bytesFromClient": relay.bytes_from_client, "bytesToClient": relay.bytes_to_client,
            "startDate": session.started_at, "endDate": end},
        secret_parameters=frozenset(), error_code=None, error_message=None, read_only=False))


def _upload(container: Container, recording: SessionRecording, session: sessions.Session) -> None:
    """The recording also goes to the S3 bucket the session's preferences name (s3BucketName, s3KeyPrefix), as
    AWS's session logs do, when the server has an S3-compatible store; the data dir keeps its copy."""
    found, store = recording_key(session.session_id, session.document_content, session.session_type), \
        container.output_store
    if found is None or store is None:
        return
    bucket, transcript_key = found
    for path in (recording.transcript_path, recording.cast_path):
        key = transcript_key.removesuffix(recording.transcript_path.name) + path.name
        try:
            store.put(bucket, key, path.read_bytes())
        except Exception:
            log.exception("session %s: its recording could not be put in s3://%s/%s", session.session_id, bucket,
                          key)


def owner_caller(session: sessions.Session) -> Caller:
    """Who started the session, as the audit trail names a caller (its user or role session name)."""
    resource = session.owner.split(":", 5)[-1]
    kind = PrincipalType.ROOT if resource == "root" else \
        PrincipalType.ASSUMED_ROLE if resource.startswith("assumed-role/") else PrincipalType.USER
    return Caller(AccountId(session.account_id), Arn(session.owner), kind, "", resource.rsplit("/", 1)[-1])
