"""Run Command's delivery: which jobs a node is owed and when (MaxConcurrency and MaxErrors applied as a job
would start), what one read for all of a process's channels offers, cancellations, and jobs left Delayed by
a channel that closed before its node took them. The API side of commands is in commands.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.protocol.message_ids import cancel_message_id, command_id_of, run_command_message_id
from openssm.protocol.mgs import CANCEL_COMMAND_TOPIC, AgentJob, send_command_payload
from openssm.services import command_status
from openssm.services import commands_rate_control as rate_control
from openssm.services.commands import status_counts
from openssm.store.tables.commands import commands, invocations


def agent_job(command_id: str, instance_id: str, payload: str) -> AgentJob:
    return AgentJob(run_command_message_id(command_id, instance_id), payload)


def open_work(conn: Connection, instance_id: str) -> dict[str, str]:
    """The node's jobs and cancellations not finished, job id -> status (the cheap check a channel polls with)."""
    rows = conn.execute(sa.select(invocations.c.command_id, invocations.c.status).where(
        invocations.c.instance_id == instance_id, invocations.c.status.in_(_OPEN)))
    return {_work_id(r.command_id, instance_id, r.status): r.status for r in rows}


def open_work_by_node(conn: Connection) -> dict[str, set[str]]:
    """What every node could be sent now, as job ids (one read for all the channels a process holds): its
    started jobs and cancellations, and pending jobs only as far as their command's MaxConcurrency has room
    (at least one per command, which also lets a command past MaxErrors cancel the rest), so nodes waiting
    their turn are not woken every poll."""
    rows = conn.execute(sa.select(invocations.c.command_id, invocations.c.instance_id, invocations.c.status)
                        .where(invocations.c.status.in_(_OPEN))
                        .order_by(invocations.c.command_id, invocations.c.instance_id)).all()
    open_commands = sa.select(invocations.c.command_id).where(invocations.c.status.in_(_OPEN)).distinct()
    limits = {r.command_id: rate_control.concurrency(r.max_concurrency, r.targets) for r in conn.execute(
        sa.select(commands.c.command_id, commands.c.max_concurrency, sa.func.count().label("targets"))
        .join(invocations, invocations.c.command_id == commands.c.command_id)
        .where(commands.c.command_id.in_(open_commands)).group_by(commands.c.command_id,
                                                                  commands.c.max_concurrency))}
    running = Counter(r.command_id for r in rows if r.status in _HOLDING_A_SLOT)
    room = {command_id: max(limit - running[command_id], 1) for command_id, limit in limits.items()}
    work: dict[str, set[str]] = {}
    for r in rows:
        if r.status == "Pending":
            if room.get(r.command_id, 0) <= 0:
                continue
            room[r.command_id] -= 1
        work.setdefault(r.instance_id, set()).add(_work_id(r.command_id, r.instance_id, r.status))
    return work


_OPEN = ["Pending", "InProgress", "Delayed", "Cancelling"]
_HOLDING_A_SLOT = ("InProgress", "Delayed")  # sent to the node: counted against MaxConcurrency


def _work_id(command_id: str, instance_id: str, status: str) -> str:
    """The id of the message the node is owed for an open invocation: its job, or the job's cancellation."""
    return (cancel_message_id if status == "Cancelling" else run_command_message_id)(command_id, instance_id)


def jobs_owed(conn: Connection, instance_id: str, now: dt.datetime) -> list[AgentJob]:
    """The jobs the node is owed: those delivered but not finally answered (sent again after a reconnect),
    and those pending that the command's rate controls let start now, which become InProgress (a write)."""
    rows = _open_rows(conn, instance_id, ["Pending", *_HOLDING_A_SLOT])
    delayed = [r.command_id for r in rows if r.status == "Delayed"]
    if delayed:  # sent again now: the node is back
        conn.execute(sa.update(invocations).where(invocations.c.instance_id == instance_id,
                                                  invocations.c.command_id.in_(delayed))
                     .values(status="InProgress", status_details="InProgress", delivered_at=now))
    return _jobs([r for r in rows if r.status in _HOLDING_A_SLOT or _may_start(conn, r, instance_id, now)],
                 instance_id)


def mark_delayed(conn: Connection, instance_id: str, job_ids: Sequence[str]) -> None:
    """Jobs handed to the node's channel that it never acknowledged before the channel closed: Delayed (AWS:
    "the system attempted to send the command … but wasn't successful. The system retries again")."""
    command_ids = [command_id_of(job_id) for job_id in job_ids]
    conn.execute(sa.update(invocations).where(invocations.c.instance_id == instance_id,
                                              invocations.c.command_id.in_(command_ids),
                                              invocations.c.status == "InProgress")
                 .values(status="Delayed", status_details="Delayed"))


def started_jobs(conn: Connection, instance_id: str) -> list[AgentJob]:
    """The jobs already started for the node (a read: what a channel sends without taking the write lock)."""
    return _jobs(_open_rows(conn, instance_id, ["InProgress"]), instance_id)


def _open_rows(conn: Connection, instance_id: str, statuses: list[str]) -> Sequence[sa.Row[tuple[object, ...]]]:
    return conn.execute(sa.select(commands, invocations.c.status).join(
        invocations, invocations.c.command_id == commands.c.command_id).where(
        invocations.c.instance_id == instance_id, invocations.c.status.in_(statuses),
        commands.c.cancelled.is_(False)).order_by(commands.c.requested_at)).all()


def _jobs(rows: Sequence[sa.Row[tuple[object, ...]]], instance_id: str) -> list[AgentJob]:
    return [agent_job(str(r.command_id), instance_id, send_command_payload(
        str(r.command_id), str(r.document_name), json.loads(str(r.document_content)),
        json.loads(str(r.run_parameters)) or json.loads(str(r.parameters)),
        output_bucket=str(r.output_bucket), output_prefix=str(r.output_prefix))) for r in rows]


def _may_start(conn: Connection, command: sa.Row[tuple[object, ...]], instance_id: str, now: dt.datetime) -> bool:
    """Start this node's invocation if MaxConcurrency allows; past MaxErrors, cancel what was not sent."""
    # Serializes deliveries of one command across channels, workers and replicas (SQLite: the write lock).
    conn.execute(sa.select(commands.c.command_id).where(commands.c.command_id == command.command_id)
                 .with_for_update())
    counts = status_counts(conn, command.command_id)
    targets = sum(counts.values())
    in_progress = sum(n for (status, _), n in counts.items() if status in _HOLDING_A_SLOT)
    errors = sum(n for (status, details), n in counts.items() if command_status.is_error(status, details))
    if rate_control.stopped(errors, rate_control.error_threshold(command.max_errors, targets)):
        conn.execute(sa.update(invocations).where(invocations.c.command_id == command.command_id,
                                                  invocations.c.status == "Pending")
                     .values(status="Cancelled", status_details="Terminated", ended_at=now))
        return False
    if in_progress >= rate_control.concurrency(command.max_concurrency, targets):
        return False
    conn.execute(sa.update(invocations).where(invocations.c.command_id == command.command_id,
                                              invocations.c.instance_id == instance_id)
                 .values(status="InProgress", status_details="InProgress", delivered_at=now))
    return True


def waiting_instances(conn: Connection, command_id: str, limit: int = 1) -> list[str]:
    """Nodes with an invocation of this command not yet sent, the next `limit` of them: one finished
    invocation frees one MaxConcurrency slot, so waking one node is enough (waking all was quadratic)."""
    return [r.instance_id for r in conn.execute(sa.select(invocations.c.instance_id).where(
        invocations.c.command_id == command_id, invocations.c.status == "Pending")
        .order_by(invocations.c.instance_id).limit(limit))]


def cancellations_owed(conn: Connection, instance_id: str) -> list[AgentJob]:
    """A cancel job for each of the node's invocations being cancelled (AWS's aws.ssm.cancelCommand)."""
    rows = conn.execute(sa.select(invocations.c.command_id).where(
        invocations.c.instance_id == instance_id, invocations.c.status == "Cancelling"))
    # AWS's payload: the message id of the job to stop.
    return [AgentJob(cancel_message_id(r.command_id, instance_id), json.dumps(
        {"CancelMessageId": run_command_message_id(r.command_id, instance_id)}), CANCEL_COMMAND_TOPIC)
            for r in rows]
