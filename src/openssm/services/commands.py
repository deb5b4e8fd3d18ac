"""Run Command's state: commands and their per-instance invocations, deadlines, cancellation and the views
the API shows. Delivery to nodes is in command_delivery.py, agents' replies in invocation_replies.py, the
command's own status in command_status.py.

An invocation is Pending until its job is sent on the node's control channel, InProgress from then (AWS
answers InProgress once delivered; Delayed if the channel closed before the node took it), and ends
Success, Failed, TimedOut (ExecutionTimedOut or DeliveryTimedOut), Cancelled (or Terminated past MaxErrors)
or Undeliverable. A job stays owed to the node until its final reply arrives: a node that reconnects is sent
it again, and its agent's record of what it ran keeps it from running twice. The full output is kept; the
API cuts it as AWS does.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.protocol import command_payload
from openssm.protocol.mgs import send_command_payload
from openssm.services import command_status
from openssm.services import commands_rate_control as rate_control
from openssm.services.command_documents import CommandDocument, Plugin, plugins_of
from openssm.store.tables.commands import commands, invocations

FINAL = command_status.FINAL
REPLY_STATUS = {"Success": ("Success", "Success"), "Failed": ("Failed", "Failed"),
                 "TimedOut": ("TimedOut", "ExecutionTimedOut"), "Cancelled": ("Cancelled", "Cancelled"),
                 "InProgress": ("InProgress", "InProgress"), "Cancelling": ("Cancelling", "Cancelling"),
                 # A step whose precondition is false; AWS's API has no Skipped status for a plugin.
                 "Skipped": ("Success", "Success")}


class InvalidCommandId(AwsError):
    code = "InvalidCommandId"


class InvocationDoesNotExist(AwsError):
    code = "InvocationDoesNotExist"


class InvalidPluginName(AwsError):
    code = "InvalidPluginName"


class InvalidRole(AwsError):
    code = "InvalidRole"


class InvalidNotificationConfig(AwsError):
    code = "InvalidNotificationConfig"


@dataclass(frozen=True)
class NewCommand:
    document: CommandDocument
    instance_ids: Sequence[str]
    targets: Sequence[dict[str, object]]
    comment: str = ""
    timeout_seconds: int = 3600
    max_concurrency: str = "50"
    max_errors: str = "0"
    output_bucket: str = ""
    output_prefix: str = ""
    service_role: str = ""
    notification_config: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PluginOutcome:
    """One step's result as its agent reported it."""

    name: str
    status: str
    response_code: int
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    stdout: str
    stderr: str
    action: str = ""


@dataclass(frozen=True)
class Invocation:
    command_id: str
    instance_id: str
    status: str
    status_details: str
    requested_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    response_code: int
    plugin_name: str
    stdout: str  # every step's, one after another
    stderr: str
    plugins: tuple[PluginOutcome, ...] = ()  # the steps that have reported


@dataclass(frozen=True)
class Command:
    command_id: str
    document_name: str
    document_version: str
    parameters: dict[str, object]
    instance_ids: list[str]
    targets: list[dict[str, object]]
    comment: str
    requested_at: dt.datetime
    expires_after: dt.datetime
    timeout_seconds: int
    max_concurrency: str
    max_errors: str
    output_bucket: str
    output_prefix: str
    service_role: str
    status: str
    status_details: str
    target_count: int
    completed_count: int
    error_count: int
    delivery_timed_out_count: int
    plugins: tuple[Plugin, ...] = ()  # the document's steps, in order
    schema_1_2: bool = False  # whose steps are named by their plugin (and so are its S3 output keys)
    notification_config: Mapping[str, object] = field(default_factory=dict)

    @property
    def plugin_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.plugins)


def send(conn: Connection, account_id: str, region: str, requested_by: str, spec: NewCommand,
         now: dt.datetime, connected: frozenset[str] = frozenset()) -> str:
    """Store the command; answers its id (see send_starting for the nodes it started)."""
    return send_starting(conn, account_id, region, requested_by, spec, now, connected)[0]


def send_starting(conn: Connection, account_id: str, region: str, requested_by: str, spec: NewCommand,
                  now: dt.datetime, connected: frozenset[str] = frozenset()) -> tuple[str, list[str], str]:
    """Store the command. Invocations for `connected` nodes (whose control channel this process holds) start
    at once, up to MaxConcurrency, in the same statement: a thousand separate starts cost seconds. Answers
    the command's id, the nodes started, and the job's payload their channels can be handed (agent_job)."""
    command_id = str(uuid.uuid4())
    deliver_by = now + dt.timedelta(seconds=spec.timeout_seconds)
    payload = job_payload(command_id, spec)
    budget = command_payload.execution_budget(command_payload.parse(payload))
    conn.execute(sa.insert(commands).values(
        command_id=command_id, account_id=account_id, region=region, document_name=spec.document.name,
        document_version=spec.document.version, document_content=json.dumps(spec.document.content),
        parameters=json.dumps(spec.document.parameters), run_parameters=json.dumps(spec.document.run_parameters),
        instance_ids=json.dumps(list(spec.instance_ids)),
        targets=json.dumps(list(spec.targets)), comment=spec.comment, requested_at=now, requested_by=requested_by,
        timeout_seconds=spec.timeout_seconds, max_concurrency=spec.max_concurrency, max_errors=spec.max_errors,
        output_bucket=spec.output_bucket, output_prefix=spec.output_prefix, service_role=spec.service_role,
        notification_config=json.dumps(dict(spec.notification_config)), cancelled=False,
        deliver_by=deliver_by, expires_at=deliver_by + dt.timedelta(seconds=budget)))
    if spec.instance_ids:
        conn.execute(sa.insert(invocations), [dict(
            command_id=command_id, instance_id=i, account_id=account_id, region=region, status="Pending",
            status_details="Pending", requested_at=now, response_code=-1,
            plugin_name=spec.document.plugins[0].name if spec.document.plugins else "", stdout="", stderr="",
            export_state="pending" if spec.output_bucket else "")
            for i in spec.instance_ids])
    slots = rate_control.concurrency(spec.max_concurrency, len(spec.instance_ids))
    now_running = [i for i in spec.instance_ids if i in connected][:slots]
    if now_running:
        conn.execute(sa.update(invocations).where(invocations.c.command_id == command_id,
                                                  invocations.c.instance_id.in_(now_running))
                     .values(status="InProgress", status_details="InProgress", delivered_at=now))
    return command_id, now_running, payload


def job_payload(command_id: str, spec: NewCommand) -> str:
    """What every node of a new command is sent (the same for all of them)."""
    return send_command_payload(command_id, spec.document.name, spec.document.content, spec.document.run_parameters,
                                output_bucket=spec.output_bucket, output_prefix=spec.output_prefix)


def expire(conn: Connection, now: dt.datetime, since: dt.datetime | None = None) -> list[str]:
    """Deadlines passed in (since, now]: invocations not sent by their command's TimeoutSeconds, and those
    still running at its ExpiresAfter, become DeliveryTimedOut (AWS: "If Run Command doesn't receive a
    document terminal response from SSM Agent, the command invocation is marked as deliveryTimeout"); one
    still being cancelled then is Cancelled. Answers the command ids touched. The window keeps a sweep from
    reading every command ever sent; the first sweep (since=None) catches up on all of them."""
    touched: set[str] = set()
    for deadline, statuses, status, details in (
            (commands.c.deliver_by, ["Pending"], "TimedOut", "DeliveryTimedOut"),
            (commands.c.expires_at, ["InProgress", "Delayed"], "TimedOut", "DeliveryTimedOut"),
            (commands.c.expires_at, ["Cancelling"], "Cancelled", "Cancelled")):
        due = sa.select(commands.c.command_id).where(deadline <= now)
        if since is not None:
            due = due.where(deadline > since)
        late = invocations.c.command_id.in_(due), invocations.c.status.in_(statuses)
        touched.update(r.command_id for r in conn.execute(sa.select(invocations.c.command_id).where(*late)))
        conn.execute(sa.update(invocations).where(*late).values(status=status, status_details=details,
                                                                 ended_at=now))
    return sorted(touched)


def get_command(conn: Connection, account_id: str, region: str, command_id: str) -> Command:
    row = conn.execute(sa.select(commands).where(commands.c.command_id == command_id,
                                                 commands.c.account_id == account_id,
                                                 commands.c.region == region)).first()
    if row is None:
        raise InvalidCommandId()
    return _command(row, status_counts(conn, command_id))


def list_commands(conn: Connection, account_id: str, region: str, instance_id: str | None = None) -> list[Command]:
    query = sa.select(commands).where(commands.c.account_id == account_id, commands.c.region == region)
    if instance_id:
        query = query.where(commands.c.command_id.in_(
            sa.select(invocations.c.command_id).where(invocations.c.instance_id == instance_id)))
    rows = conn.execute(query.order_by(commands.c.requested_at.desc())).all()
    return [_command(r, status_counts(conn, r.command_id)) for r in rows]


def status_counts(conn: Connection, command_id: str) -> dict[tuple[str, str], int]:
    return {(str(status), str(details)): int(n) for status, details, n in conn.execute(
        sa.select(invocations.c.status, invocations.c.status_details, sa.func.count())
        .where(invocations.c.command_id == command_id)
        .group_by(invocations.c.status, invocations.c.status_details))}


def invocations_of(conn: Connection, command_id: str, instance_id: str | None = None) -> list[Invocation]:
    query = sa.select(invocations).where(invocations.c.command_id == command_id)
    if instance_id:
        query = query.where(invocations.c.instance_id == instance_id)
    return [Invocation(r.command_id, r.instance_id, r.status, r.status_details, r.requested_at, r.started_at,
                       r.ended_at, r.response_code, r.plugin_name, r.stdout, r.stderr, _plugins(r.plugins))
            for r in conn.execute(query.order_by(invocations.c.instance_id))]


def _plugins(stored: str) -> tuple[PluginOutcome, ...]:
    return tuple(PluginOutcome(p["name"], p["status"], int(p["code"]), parse_stamp(p["start"]), parse_stamp(p["end"]),
                               p["stdout"], p["stderr"], p.get("action", "")) for p in json.loads(stored or "[]"))


def cancel(conn: Connection, account_id: str, region: str, command_id: str, instance_ids: Sequence[str],
           now: dt.datetime) -> list[str]:
    """CancelCommand: invocations not yet sent (or not taken: Delayed) become Cancelled; running ones
    Cancelling until their node confirms it stopped them. Answers the nodes to tell."""
    get_command(conn, account_id, region, command_id)
    scope = [invocations.c.command_id == command_id]
    if instance_ids:
        scope.append(invocations.c.instance_id.in_(list(instance_ids)))
    # A Delayed job never reached its node, as far as anyone knows: like a pending one, it is not sent.
    conn.execute(sa.update(invocations).where(*scope, invocations.c.status.in_(["Pending", "Delayed"]))
                 .values(status="Cancelled", status_details="Cancelled", ended_at=now))
    running = [r.instance_id for r in conn.execute(sa.select(invocations.c.instance_id).where(
        *scope, invocations.c.status == "InProgress"))]
    # delivered_at now tracks the cancel message (ec2messages hands it out again until the job stops).
    conn.execute(sa.update(invocations).where(*scope, invocations.c.status == "InProgress")
                 .values(status="Cancelling", status_details="Cancelling", delivered_at=None))
    return running


def parse_stamp(stamp: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def _command(r: sa.Row[tuple[object, ...]], counts: Mapping[tuple[str, str], int]) -> Command:
    state = command_status.aggregate(counts, r.max_errors)
    content = json.loads(str(r.document_content))
    return Command(r.command_id, r.document_name, r.document_version, json.loads(r.parameters),
                   json.loads(r.instance_ids), json.loads(r.targets), r.comment, r.requested_at,
                   r.expires_at or r.requested_at + dt.timedelta(seconds=r.timeout_seconds), r.timeout_seconds,
                   r.max_concurrency, r.max_errors, r.output_bucket, r.output_prefix, r.service_role, state.status,
                   state.status_details, sum(counts.values()), state.completed_count, state.error_count,
                   state.delivery_timed_out_count,
                   plugins_of(content), "mainSteps" not in content, json.loads(str(r.notification_config)))


@dataclass(frozen=True)
class PluginView:
    """A step of an invocation as the API shows it: its own report, or the invocation's state until it has one."""

    name: str
    status: str
    status_details: str
    response_code: int
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    stdout: str
    stderr: str


def plugin_views(command: Command, invocation: Invocation) -> list[PluginView]:
    # An agent that keys a schema 1.2 plugin by its step name is matched by the plugin it ran.
    reported = {p.name if p.name in command.plugin_names or p.action not in command.plugin_names
                else p.action: p for p in invocation.plugins}
    names = list(command.plugin_names) + [n for n in reported if n not in command.plugin_names]
    views = []
    for name in names or [invocation.plugin_name]:
        p = reported.get(name)
        if p is None:
            views.append(PluginView(name, invocation.status, invocation.status_details, -1, None, None, "", ""))
            continue
        status, details = REPLY_STATUS.get(p.status, (p.status, p.status))
        views.append(PluginView(name, status, details, p.response_code, p.started_at, p.ended_at, p.stdout,
                                p.stderr))
    return views
