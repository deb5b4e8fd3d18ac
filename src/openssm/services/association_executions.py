"""An association's executions: one per run (its creation, a schedule tick, StartAssociationsOnce, an update,
nodes newly matching its targets), with one target row per node, the status each execution takes from its
targets, and the listings (DescribeAssociationExecutions, DescribeAssociationExecutionTargets).

A target is Pending until it is started (association_dispatch.py), InProgress until its node reports, then
Success or Failed; targets never started because MaxErrors was exceeded are Skipped. An execution is Pending
while none of its targets has started, InProgress while any is open, then Failed if any failed or was
skipped, else Success.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services.association_model import Execution, ExecutionTarget
from openssm.services.instances import ManagedInstance
from openssm.store.tables.associations import association_executions, execution_targets, instance_statuses

OPEN = ("Pending", "InProgress")
_IN_CHUNK = 500


def start(conn: Connection, account_id: str, region: str, association_id: str, version: int,
          document_version: str, nodes: Sequence[ManagedInstance], now: dt.datetime) -> str | None:
    """A new execution over `nodes` (none when there are none), its targets Pending: nodes online first, so
    the first started are the likeliest to answer. A node still waiting (Pending: offline) in an earlier
    execution of the association is left there: it runs once when it returns, however many runs it missed."""
    waiting = _waiting(conn, association_id)
    mark_known(conn, account_id, region, association_id, version, document_version,
               [n.instance_id for n in nodes])
    nodes = [n for n in nodes if n.instance_id not in waiting]
    if not nodes:
        return None
    execution_id = str(uuid.uuid4())
    conn.execute(sa.insert(association_executions).values(
        execution_id=execution_id, association_id=association_id, association_version=version,
        document_version=document_version, status="Pending", detailed_status="Pending", created_at=now))
    ordered = sorted(nodes, key=lambda n: (n.ping_status != "Online", n.instance_id))
    conn.execute(sa.insert(execution_targets), [dict(
        execution_id=execution_id, resource_id=n.instance_id, association_id=association_id,
        resource_type=n.resource_type, seq=i, status="Pending", detailed_status="Pending")
        for i, n in enumerate(ordered)])
    return execution_id


def _waiting(conn: Connection, association_id: str) -> set[str]:
    t = execution_targets.c
    return {r.resource_id for r in conn.execute(sa.select(t.resource_id).where(
        t.association_id == association_id, t.status == "Pending"))}


def mark_known(conn: Connection, account_id: str, region: str, association_id: str, version: int,
               document_version: str, instance_ids: Sequence[str]) -> None:
    """Give nodes the association applies to a status row (Pending/Associated until they report): it is what
    DescribeInstanceAssociationsStatus shows and how a node that newly matches the targets is told apart."""
    known = set(known_nodes(conn, association_id, instance_ids))
    fresh = [i for i in dict.fromkeys(instance_ids) if i not in known]
    if fresh:
        conn.execute(sa.insert(instance_statuses), [dict(
            association_id=association_id, instance_id=i, account_id=account_id, region=region,
            association_version=version, document_version=document_version, status="Pending",
            detailed_status="Associated", execution_summary="", error_code="") for i in fresh])


def known_nodes(conn: Connection, association_id: str, instance_ids: Sequence[str]) -> list[str]:
    c = instance_statuses.c
    found: list[str] = []
    for at in range(0, len(instance_ids), _IN_CHUNK):
        found += [r.instance_id for r in conn.execute(sa.select(c.instance_id).where(
            c.association_id == association_id, c.instance_id.in_(list(instance_ids[at:at + _IN_CHUNK]))))]
    return found


def target_counts(conn: Connection, execution_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Targets by status, per execution, in one grouped read."""
    c = execution_targets.c
    counts: dict[str, dict[str, int]] = {}
    for at in range(0, len(execution_ids), _IN_CHUNK):
        for r in conn.execute(sa.select(c.execution_id, c.status, sa.func.count()).where(
                c.execution_id.in_(list(execution_ids[at:at + _IN_CHUNK]))).group_by(c.execution_id, c.status)):
            counts.setdefault(r[0], {})[r[1]] = int(r[2])
    return counts


def aggregate(counts: Mapping[str, int]) -> str:
    """An execution's status from its targets'."""
    started = counts.get("InProgress", 0) + sum(n for s, n in counts.items() if s not in OPEN)
    if counts.get("Pending"):
        return "InProgress" if started else "Pending"
    if counts.get("InProgress"):
        return "InProgress"
    return "Failed" if counts.get("Failed") or counts.get("Skipped") else "Success"


def settle(conn: Connection, execution_id: str, now: dt.datetime, *, ran: bool = False) -> str:
    """Bring the execution's status in line with its targets' (and, when a target just finished (`ran`), its
    LastExecutionDate); answers the status."""
    status = aggregate(target_counts(conn, [execution_id]).get(execution_id, {}))
    values: dict[str, object] = {"status": status, "detailed_status": status}
    if ran:
        values["last_execution_at"] = now
    conn.execute(sa.update(association_executions).where(association_executions.c.execution_id == execution_id)
                 .values(values))
    return status


def lock(conn: Connection, execution_id: str) -> sa.Row[tuple[object, ...]] | None:
    """The execution's row, locked (PostgreSQL) so that one transaction at a time starts or completes its
    targets; SQLite's writers are serialized already."""
    return conn.execute(sa.select(association_executions).where(
        association_executions.c.execution_id == execution_id).with_for_update()).first()


@dataclass(frozen=True)
class ExecutionFilter:
    key: str  # ExecutionId | Status | CreatedTime
    value: str | dt.datetime
    type: str  # EQUAL | LESS_THAN | GREATER_THAN


def executions(conn: Connection, association_id: str, filters: Sequence[ExecutionFilter], start: int,
               size: int) -> tuple[list[Execution], bool]:
    """DescribeAssociationExecutions, newest first: a page and whether more follow."""
    c = association_executions.c
    query = sa.select(association_executions).where(c.association_id == association_id)
    columns = {"ExecutionId": c.execution_id, "Status": c.status, "CreatedTime": c.created_at}
    for f in filters:
        column = columns[f.key]
        query = query.where(column < f.value if f.type == "LESS_THAN" else
                            column > f.value if f.type == "GREATER_THAN" else column == f.value)
    rows = conn.execute(query.order_by(c.created_at.desc(), c.execution_id).offset(start).limit(size + 1)).all()
    counts = target_counts(conn, [r.execution_id for r in rows[:size]])
    return [Execution(r.association_id, r.association_version, r.execution_id, r.status, r.detailed_status,
                      r.created_at, r.last_execution_at, counts.get(r.execution_id, {}))
            for r in rows[:size]], len(rows) > size


def execution_row(conn: Connection, association_id: str, execution_id: str) -> sa.Row[tuple[object, ...]] | None:
    c = association_executions.c
    return conn.execute(sa.select(association_executions).where(
        c.association_id == association_id, c.execution_id == execution_id)).first()


def targets(conn: Connection, association_id: str, execution_id: str, version: int,
            filters: Mapping[str, str], start: int, size: int) -> tuple[list[ExecutionTarget], bool]:
    """DescribeAssociationExecutionTargets: a page (by node id) and whether more follow."""
    c = execution_targets.c
    query = sa.select(execution_targets).where(c.execution_id == execution_id)
    columns = {"Status": c.status, "ResourceId": c.resource_id, "ResourceType": c.resource_type}
    for key, value in filters.items():
        query = query.where(columns[key] == value)
    rows = conn.execute(query.order_by(c.resource_id).offset(start).limit(size + 1)).all()
    return [ExecutionTarget(association_id, version, execution_id, r.resource_id, r.resource_type, r.status,
                            r.detailed_status, r.last_execution_at, r.command_id) for r in rows[:size]], \
        len(rows) > size


def end_for_departed_node(conn: Connection, instance_id: str, now: dt.datetime) -> list[str]:
    """A deregistered node will never run or report: its targets still waiting are Skipped and those it was
    running Failed, so their executions can end; answers the executions touched."""
    t = execution_targets.c
    touched = sorted({r[0] for r in conn.execute(sa.select(t.execution_id).where(
        t.resource_id == instance_id, t.status.in_(OPEN)))})
    for status, was in (("Skipped", "Pending"), ("Failed", "InProgress")):
        conn.execute(sa.update(execution_targets).where(t.resource_id == instance_id, t.status == was).values(
            status=status, detailed_status=f"{status}: the managed node was deregistered", last_execution_at=now))
    for execution_id in touched:
        settle(conn, execution_id, now)
    return touched
