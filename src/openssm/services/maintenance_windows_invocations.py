"""A started task's invocations: one per target node, each run by its own Run Command command (its
ExecutionId), as AWS runs RUN_COMMAND tasks; started MaxConcurrency at a time until more than MaxErrors
failed, and kept in step with their commands' invocations.

The commands are sent by the service on behalf of the window: each is recorded with the window's ARN as
who requested it (as State Manager's are with the association's). `{{RESOURCE_ID}}`, `{{WINDOW_ID}}` and AWS's
other pseudo parameters in the task's parameter values are filled in per invocation.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.services import command_documents, commands
from openssm.services import commands_rate_control as rate_control
from openssm.services.command_documents import SsmLookup
from openssm.services.commands import NewCommand
from openssm.services.maintenance_windows_model import (
    CANCELLED,
    CANCELLING,
    FAILED,
    FINAL,
    IN_PROGRESS,
    PENDING,
    SUCCESS,
    TIMED_OUT,
    TaskSpec,
    window_arn,
)
from openssm.services.parameter_model import Scope
from openssm.store.tables.commands import invocations as command_invocations
from openssm.store.tables.maintenance_windows import task_invocations

DEFAULT_TIMEOUT_SECONDS = 3600  # SendCommand's
# Run Command's invocation status -> a window invocation's.
_FROM_COMMAND = {"Pending": IN_PROGRESS, "InProgress": IN_PROGRESS, "Delayed": IN_PROGRESS, "Success": SUCCESS,
                 "Failed": FAILED, "TimedOut": TIMED_OUT, "Cancelled": CANCELLED, "Terminated": CANCELLED,
                 "Cancelling": CANCELLING, "Undeliverable": FAILED}


@dataclass(frozen=True)
class Sent:
    """A command sent for an invocation, for handing to the node's control channel after the commit."""

    command_id: str
    instance_id: str
    payload: str
    started: bool


@dataclass(frozen=True)
class RunContext:
    """What starting invocations needs besides the store: the channels this process holds, and how
    `{{ssm:name}}` values are read for an account."""

    connected: Callable[[str], bool]
    lookup: Callable[[Connection, Scope], SsmLookup]


@dataclass(frozen=True)
class Place:
    """Where an invocation runs: the window, its execution and task, the node and the window target naming it."""

    account_id: str
    region: str
    window_id: str
    window_execution_id: str
    task_execution_id: str
    instance_id: str
    window_target_id: str | None
    owner_information: str | None


def pseudo_parameters(place: Place, invocation_id: str, spec: TaskSpec) -> dict[str, str]:
    return {"RESOURCE_ID": place.instance_id, "TARGET_ID": place.instance_id, "TARGET_TYPE": "INSTANCE",
            "WINDOW_ID": place.window_id, "WINDOW_EXECUTION_ID": place.window_execution_id,
            "TASK_EXECUTION_ID": place.task_execution_id, "INVOCATION_ID": invocation_id,
            "WINDOW_TARGET_ID": place.window_target_id or "", "OWNER_INFORMATION": place.owner_information or "",
            "LOGGING_S3_BUCKET_NAME": spec.logging_bucket or "", "LOGGING_S3_KEY_PREFIX": spec.logging_prefix or "",
            "LOGGING_S3_REGION": spec.logging_region or ""}


def _filled(values: Mapping[str, Sequence[str]], pseudo: Mapping[str, str]) -> dict[str, list[str]]:
    def fill(text: str) -> str:
        for name, value in pseudo.items():
            text = text.replace("{{" + name + "}}", value)
        return text
    return {k: [fill(v) for v in vs] for k, vs in values.items()}


def add(conn: Connection, place: Place, seq: int, spec: TaskSpec) -> None:
    """A PENDING invocation, with the SendCommand it will make as its Parameters (as AWS shows them)."""
    invocation_id = str(uuid.uuid4())
    run = spec.run_command
    given = run.parameters if run is not None and run.parameters else spec.task_parameters
    parameters = {"documentName": spec.task_arn, "instanceIds": [place.instance_id],
                  "maxConcurrency": spec.max_concurrency, "maxErrors": spec.max_errors,
                  "parameters": _filled(given, pseudo_parameters(place, invocation_id, spec)),
                  "timeoutSeconds": (run.timeout_seconds if run else None) or DEFAULT_TIMEOUT_SECONDS}
    if run is not None:
        parameters.update({k: v for k, v in {
            "comment": run.comment, "documentVersion": run.document_version,
            "outputS3BucketName": run.output_s3_bucket, "outputS3KeyPrefix": run.output_s3_prefix,
            "serviceRoleArn": run.service_role_arn}.items() if v is not None})
    conn.execute(sa.insert(task_invocations).values(
        invocation_id=invocation_id, task_execution_id=place.task_execution_id,
        window_execution_id=place.window_execution_id, seq=seq, instance_id=place.instance_id,
        window_target_id=place.window_target_id, owner_information=place.owner_information,
        parameters=json.dumps(parameters, sort_keys=True), status=PENDING, status_details="Pending"))


def sync(conn: Connection, task_execution_id: str, now: dt.datetime) -> None:
    """Running invocations take their command's status."""
    i, c = task_invocations.c, command_invocations.c
    rows = conn.execute(sa.select(i.invocation_id, c.status, c.status_details, c.ended_at).join(
        command_invocations, sa.and_(c.command_id == i.command_id, c.instance_id == i.instance_id)).where(
        i.task_execution_id == task_execution_id, i.status.in_([IN_PROGRESS, CANCELLING]))).all()
    for r in rows:
        status = _FROM_COMMAND.get(r.status, IN_PROGRESS)
        conn.execute(sa.update(task_invocations).where(i.invocation_id == r.invocation_id).values(
            status=status, status_details=r.status_details[:250],
            end_time=(r.ended_at or now) if status in FINAL else None))


def counts(conn: Connection, task_execution_id: str) -> dict[str, int]:
    i = task_invocations.c
    return {str(s): int(n) for s, n in conn.execute(sa.select(i.status, sa.func.count()).where(
        i.task_execution_id == task_execution_id).group_by(i.status))}


def start_more(conn: Connection, place: Place, spec: TaskSpec, now: dt.datetime, run: RunContext) -> list[Sent]:
    """Start what MaxConcurrency allows; past MaxErrors the invocations not started are cancelled."""
    tally = counts(conn, place.task_execution_id)
    total = sum(tally.values())
    errors = tally.get(FAILED, 0) + tally.get(TIMED_OUT, 0)
    if rate_control.stopped(errors, rate_control.error_threshold(spec.max_errors or "0", total)):
        stop_pending(conn, place.task_execution_id, now, "The task's MaxErrors was exceeded; this invocation was "
                                                         "not started.")
        return []
    room = rate_control.concurrency(spec.max_concurrency or "1", total) - tally.get(IN_PROGRESS, 0) \
        - tally.get(CANCELLING, 0)
    if room <= 0:
        return []
    i = task_invocations.c
    waiting = conn.execute(sa.select(task_invocations).where(
        i.task_execution_id == place.task_execution_id, i.status == PENDING).order_by(i.seq).limit(room)).all()
    return [s for r in waiting if (s := _start(conn, place, spec, r, now, run)) is not None]


def _start(conn: Connection, place: Place, spec: TaskSpec, r: sa.Row[tuple[object, ...]], now: dt.datetime,
           run: RunContext) -> Sent | None:
    sent = json.loads(str(r.parameters))
    scope = Scope(place.account_id, place.region, window_arn(place.region, place.account_id, place.window_id), now)
    i = task_invocations.c
    try:
        document = command_documents.prepare(conn, scope, spec.task_arn, sent.get("documentVersion"),
                                             sent["parameters"], run.lookup(conn, scope))
    except AwsError as err:  # the document was deleted, or the values no longer fit it
        conn.execute(sa.update(task_invocations).where(i.invocation_id == r.invocation_id).values(
            status=FAILED, status_details=(err.message or err.code)[:250], start_time=now, end_time=now))
        return None
    note = spec.run_command.notification if spec.run_command else None
    command = NewCommand(document, [str(r.instance_id)], [{"Key": "InstanceIds", "Values": [r.instance_id]}],
                         sent.get("comment") or "", int(sent["timeoutSeconds"]), "1", "0",
                         sent.get("outputS3BucketName") or "", sent.get("outputS3KeyPrefix") or "",
                         sent.get("serviceRoleArn") or "",
                         {"NotificationArn": note.arn, "NotificationEvents": list(note.events),
                          "NotificationType": note.type} if note is not None and note.arn else {})
    connected = frozenset({str(r.instance_id)}) if run.connected(str(r.instance_id)) else frozenset()
    command_id, started, payload = commands.send_starting(conn, place.account_id, place.region, scope.user_arn,
                                                          command, now, connected)
    conn.execute(sa.update(task_invocations).where(i.invocation_id == r.invocation_id).values(
        status=IN_PROGRESS, status_details="InProgress", command_id=command_id, start_time=now))
    return Sent(command_id, str(r.instance_id), payload, bool(started))


def stop_pending(conn: Connection, task_execution_id: str, now: dt.datetime, why: str) -> None:
    i = task_invocations.c
    conn.execute(sa.update(task_invocations).where(i.task_execution_id == task_execution_id, i.status == PENDING)
                 .values(status=CANCELLED, status_details=why[:250], end_time=now))


def cancel_running(conn: Connection, account_id: str, region: str, task_execution_id: str,
                   now: dt.datetime) -> list[str]:
    """Cancel the commands of the running invocations (they become CANCELLING, then what their node says);
    answers the nodes to tell."""
    i = task_invocations.c
    running = conn.execute(sa.select(i.invocation_id, i.command_id, i.instance_id).where(
        i.task_execution_id == task_execution_id, i.status == IN_PROGRESS, i.command_id.is_not(None))).all()
    nodes = []
    for r in running:
        nodes += commands.cancel(conn, account_id, region, str(r.command_id), [str(r.instance_id)], now)
        conn.execute(sa.update(task_invocations).where(i.invocation_id == r.invocation_id)
                     .values(status=CANCELLING, status_details="Cancelling"))
    sync(conn, task_execution_id, now)
    return nodes
