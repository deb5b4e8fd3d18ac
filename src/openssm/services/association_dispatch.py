"""Starting an execution's targets on their nodes, MaxConcurrency at a time, until MaxErrors is exceeded.

A target is started by Run Command: its node is sent Amazon's AWS-RefreshAssociation with the association's
id (a real command, listed by ListCommands as at AWS), whose agent then asks ListInstanceAssociations what to
run and reports UpdateInstanceAssociationStatus. Only nodes that are Online are started; the others stay
Pending, holding no slot, until they return. A target whose refresh command ends without success
(undelivered, failed, cancelled) fails with that command's status; one whose node never answers stays
InProgress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.protocol.mgs import AgentJob
from openssm.services import association_executions as executions
from openssm.services import association_store as store
from openssm.services import command_delivery, command_documents, commands, documents
from openssm.services import commands_rate_control as rate_control
from openssm.services.association_model import AssociationSpec, association_arn
from openssm.services.command_status import FINAL
from openssm.services.commands import NewCommand
from openssm.services.documents_builtin_associations import REFRESH_ASSOCIATION
from openssm.services.instances import ONLINE_WITHIN
from openssm.store.tables.associations import associations, execution_targets, instance_statuses
from openssm.store.tables.commands import invocations
from openssm.store.tables.instances import managed_instances

REFRESH_TIMEOUT_SECONDS = 3600  # SendCommand's default: a node not reached by then fails the target


class JobHub(Protocol):
    """Where started jobs go: the control channels this process holds (bus/local.py's LocalHub)."""

    def connected(self, instance_id: str) -> bool: ...

    def offer(self, instance_id: str, job: AgentJob) -> None: ...

    def notify(self, instance_id: str) -> None: ...


@dataclass(frozen=True)
class Sent:
    """A refresh command sent: every node it went to, and those started at once (their channel is held here)."""

    command_id: str
    payload: str
    instance_ids: tuple[str, ...]
    started: tuple[str, ...]


def deliver(hub: JobHub, sent: Iterable[Sent]) -> None:
    """After the commit: hand the started nodes their job; wake the others' channels (which read the store)."""
    for s in sent:
        for instance_id in s.instance_ids:
            if instance_id in s.started:
                hub.offer(instance_id, command_delivery.agent_job(s.command_id, instance_id, s.payload))
            else:
                hub.notify(instance_id)


def startable(conn: Connection, now: dt.datetime) -> list[str]:
    """The executions with a target waiting for a node that is online now (one read, by the targets' status
    index: offline nodes wait once per association, so this stays small)."""
    t, m = execution_targets.c, managed_instances.c
    return sorted({r.execution_id for r in conn.execute(
        sa.select(t.execution_id).join(managed_instances, m.instance_id == t.resource_id)
        .where(t.status == "Pending", *_online(now)))})


def _online(now: dt.datetime) -> tuple[sa.ColumnElement[bool], ...]:
    m = managed_instances.c
    return m.deregistered.is_(False), m.last_ping >= now - ONLINE_WITHIN, m.cut_off_at.is_(None)


def dispatch(conn: Connection, execution_ids: Sequence[str], now: dt.datetime,
             connected: Callable[[str], bool]) -> list[Sent]:
    """Start what the executions' rate controls allow now."""
    sent = []
    for execution_id in execution_ids:
        one = _dispatch_one(conn, execution_id, now, connected)
        if one is not None:
            sent.append(one)
    return sent


def _dispatch_one(conn: Connection, execution_id: str, now: dt.datetime,
                  connected: Callable[[str], bool]) -> Sent | None:
    execution = executions.lock(conn, execution_id)
    if execution is None or execution.status not in executions.OPEN:
        return None
    association = conn.execute(sa.select(associations).where(
        associations.c.association_id == execution.association_id)).one()
    spec = store.spec_of(conn, execution.association_id, execution.association_version)
    counts = executions.target_counts(conn, [execution_id]).get(execution_id, {})
    total = sum(counts.values())
    if _past_max_errors(spec, counts.get("Failed", 0), total):
        _skip_the_rest(conn, execution_id, now)
        return None
    limit = rate_control.concurrency(spec.max_concurrency, total) if spec.max_concurrency else total
    room = limit - counts.get("InProgress", 0)
    chosen = _online_pending(conn, execution_id, now, room) if room > 0 else []
    if not chosen:
        return None
    document = command_documents.for_version(documents.built_in(REFRESH_ASSOCIATION, association.region),
                                             {"associationIds": [execution.association_id]}, _no_lookup)
    command = NewCommand(document, chosen, [{"Key": "InstanceIds", "Values": chosen}],
                         f"State Manager association {execution.association_id}", REFRESH_TIMEOUT_SECONDS,
                         str(len(chosen)), str(len(chosen)))
    command_id, started, payload = commands.send_starting(
        conn, association.account_id, association.region,
        association_arn(association.region, association.account_id, association.association_id), command, now,
        frozenset(i for i in chosen if connected(i)))
    t = execution_targets.c
    conn.execute(sa.update(execution_targets).where(t.execution_id == execution_id, t.resource_id.in_(chosen))
                 .values(status="InProgress", detailed_status="InProgress", command_id=command_id))
    executions.settle(conn, execution_id, now)
    return Sent(command_id, payload, tuple(chosen), tuple(started))


def _no_lookup(name: str) -> str:
    raise AssertionError(f"AWS-RefreshAssociation has no {{{{ssm:{name}}}}} reference")


def _past_max_errors(spec: AssociationSpec, errors: int, total: int) -> bool:
    return spec.max_errors is not None and rate_control.stopped(errors, rate_control.error_threshold(
        spec.max_errors, total))


def _skip_the_rest(conn: Connection, execution_id: str, now: dt.datetime) -> None:
    """Past MaxErrors no target is started any more (those running finish)."""
    t = execution_targets.c
    conn.execute(sa.update(execution_targets).where(t.execution_id == execution_id, t.status == "Pending")
                 .values(status="Skipped", detailed_status="Skipped", last_execution_at=now))
    executions.settle(conn, execution_id, now)


def _online_pending(conn: Connection, execution_id: str, now: dt.datetime, room: int) -> list[str]:
    t, m = execution_targets.c, managed_instances.c
    return [r.resource_id for r in conn.execute(
        sa.select(t.resource_id).join(managed_instances, m.instance_id == t.resource_id)
        .where(t.execution_id == execution_id, t.status == "Pending", *_online(now))
        .order_by(t.seq).limit(room))]


def fail_undelivered(conn: Connection, now: dt.datetime) -> list[str]:
    """Started targets whose refresh command ended without success fail with its status (DeliveryTimedOut,
    Failed, Cancelled…); answers the executions touched, which may start more."""
    t, i = execution_targets.c, invocations.c
    lost = conn.execute(sa.select(t.execution_id, t.resource_id, t.association_id, i.status_details).join(
        invocations, sa.and_(i.command_id == t.command_id, i.instance_id == t.resource_id))
        .where(t.status == "InProgress", i.status.in_(sorted(FINAL - {"Success"})))).all()
    touched: list[str] = []
    for r in lost:
        executions.lock(conn, r.execution_id)
        conn.execute(sa.update(execution_targets).where(
            t.execution_id == r.execution_id, t.resource_id == r.resource_id, t.status == "InProgress")
            .values(status="Failed", detailed_status=r.status_details, last_execution_at=now))
        s = instance_statuses.c
        conn.execute(sa.update(instance_statuses).where(s.association_id == r.association_id,
                                                        s.instance_id == r.resource_id)
                     .values(status="Failed", detailed_status=r.status_details, execution_id=r.execution_id,
                             execution_date=now, error_code="", output_url=None,
                             execution_summary=f"The node was not reached: its {REFRESH_ASSOCIATION} command "
                                               f"ended {r.status_details}."))
        executions.settle(conn, r.execution_id, now, ran=True)
        touched.append(r.execution_id)
    return list(dict.fromkeys(touched))
