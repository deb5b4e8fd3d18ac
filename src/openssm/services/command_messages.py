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
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.protocol.mgs import JobReply
from openssm.services import commands
from openssm.store.tables.commands import invocations

TOPIC = "aws.ssm.sendCommand"
_MESSAGE_ID = re.compile(r"^aws\.ssm\.([0-9a-f-]{36})\.(mi-[0-9a-f]{17}|i-[0-9a-f]{8,17})$")


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


def message_id(command_id: str, instance_id: str) -> str:
    return f"aws.ssm.{command_id}.{instance_id}"


def parse_message_id(value: str, instance_id: str) -> str:
    """The command id of one of this node's messages."""
    match = _MESSAGE_ID.match(value)
    if match is None or match.group(2) != instance_id:
        raise InvalidMessageId(f"The message {value} is not a message for {instance_id}.")
    return match.group(1)


def messages_for(conn: Connection, instance_id: str, now: dt.datetime, visibility: dt.timedelta) -> list[Message]:
    """Jobs newly started for the node, and those handed out before but neither acknowledged nor answered
    within the visibility timeout."""
    stale = [r.command_id for r in conn.execute(sa.select(invocations.c.command_id).where(
        invocations.c.instance_id == instance_id, invocations.c.status == "InProgress",
        invocations.c.started_at.is_(None), invocations.c.delivered_at <= now - visibility))]
    before = {r.command_id for r in conn.execute(sa.select(invocations.c.command_id).where(
        invocations.c.instance_id == instance_id, invocations.c.status == "InProgress"))}
    jobs = commands.jobs_owed(conn, instance_id, now)
    due = [j for j in jobs if j.job_id not in before or j.job_id in stale]
    if stale:
        conn.execute(sa.update(invocations).where(invocations.c.instance_id == instance_id,
                                                  invocations.c.command_id.in_(stale)).values(delivered_at=now))
    return [Message(message_id(j.job_id, instance_id), instance_id, TOPIC, j.content, now) for j in due]


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
    commands.apply_reply(conn, instance_id, JobReply.from_content(command_id, content), now)


def fail(conn: Connection, instance_id: str, raw_message_id: str, now: dt.datetime) -> None:
    """The agent could not take the message: the invocation fails as Undeliverable."""
    command_id = parse_message_id(raw_message_id, instance_id)
    conn.execute(sa.update(invocations).where(
        invocations.c.command_id == command_id, invocations.c.instance_id == instance_id,
        invocations.c.status.not_in(list(commands.FINAL))).values(
        status="Failed", status_details="Undeliverable", ended_at=now))
