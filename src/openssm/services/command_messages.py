"""Run Command over ec2messages, the channel AWS's agent polls when the control channel is unavailable:
GetMessages hands out the jobs a node is owed, hidden from further polls for the visibility timeout unless
acknowledged; SendReply carries the same reply content as agent_job_reply.

GetMessages answers at once rather than holding the request: AWS's agent polls again five seconds after an
empty answer (seen in its captured traffic), which bounds the delay without tying up a server thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.protocol import message_ids
from openssm.protocol.mgs import JobReply
from openssm.services import command_delivery, commands, invocation_replies
from openssm.store.tables.commands import invocations


class InvalidMessageId(AwsError):
    code = "InvalidMessageId"


@dataclass(frozen=True)
class Message:
    message_id: str
    destination: str
    topic: str
    payload: str
    created: dt.datetime

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.payload.encode()).hexdigest()


def parse_message_id(value: str, instance_id: str) -> str:
    """The command id of one of this node's messages."""
    parsed = message_ids.parse(value)
    if parsed is None or parsed[1] != instance_id:
        raise InvalidMessageId(f"The message {value} is not a message for {instance_id}.")
    return parsed[0]


def messages_for(conn: Connection, instance_id: str, now: dt.datetime, visibility: dt.timedelta) -> list[Message]:
    """Jobs newly started for the node, and those handed out before but neither acknowledged nor answered
    within the visibility timeout; then cancellations, each again every visibility timeout until the node
    reports the job stopped (a cancel has no acknowledgement of its own to wait for)."""
    stale = [r.command_id for r in conn.execute(sa.select(invocations.c.command_id).where(
        invocations.c.instance_id == instance_id, invocations.c.status == "InProgress",
        invocations.c.started_at.is_(None), invocations.c.delivered_at <= now - visibility))]
    before = {r.command_id for r in conn.execute(sa.select(invocations.c.command_id).where(
        invocations.c.instance_id == instance_id, invocations.c.status == "InProgress"))}
    jobs = command_delivery.jobs_owed(conn, instance_id, now)
    due = [j for j in jobs if (command := message_ids.command_id_of(j.job_id)) not in before or command in stale]
    cancelling = [r.command_id for r in conn.execute(sa.select(invocations.c.command_id).where(
        invocations.c.instance_id == instance_id, invocations.c.status == "Cancelling",
        sa.or_(invocations.c.delivered_at.is_(None), invocations.c.delivered_at <= now - visibility)))]
    resend = {message_ids.cancel_message_id(command_id, instance_id) for command_id in cancelling}
    cancels = [j for j in command_delivery.cancellations_owed(conn, instance_id) if j.job_id in resend]
    if stale or cancelling:
        conn.execute(sa.update(invocations).where(invocations.c.instance_id == instance_id,
                                                  invocations.c.command_id.in_(stale + cancelling))
                     .values(delivered_at=now))
    return [Message(j.job_id, instance_id, j.topic, j.content, now) for j in due + cancels]


def acknowledge(conn: Connection, instance_id: str, raw_message_id: str, now: dt.datetime) -> None:
    command_id = parse_message_id(raw_message_id, instance_id)
    conn.execute(sa.update(invocations).where(
        invocations.c.command_id == command_id, invocations.c.instance_id == instance_id,
        invocations.c.started_at.is_(None)).values(started_at=now))


def reply(conn: Connection, instance_id: str, raw_message_id: str, payload: str, now: dt.datetime) -> None:
    command_id = parse_message_id(raw_message_id, instance_id)
    try:
        content = json.loads(payload)
    except json.JSONDecodeError as err:
        raise InvalidMessageId(f"The reply payload is not JSON: {err}") from err
    invocation_replies.apply_reply(conn, instance_id, JobReply.from_content(command_id, content), now)


def fail(conn: Connection, instance_id: str, raw_message_id: str, now: dt.datetime) -> None:
    """The agent could not take the message: the invocation fails as Undeliverable."""
    command_id = parse_message_id(raw_message_id, instance_id)
    conn.execute(sa.update(invocations).where(
        invocations.c.command_id == command_id, invocations.c.instance_id == instance_id,
        invocations.c.status.not_in(list(commands.FINAL))).values(
        status="Failed", status_details="Undeliverable", ended_at=now))
