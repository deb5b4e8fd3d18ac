"""The nodes' side of State Manager: what a node is to run now (ListInstanceAssociations), what it reports
(UpdateInstanceAssociationStatus), and what it shows (DescribeInstanceAssociationsStatus,
DescribeEffectiveInstanceAssociations).

A node is answered the associations it has a started (InProgress) execution target for, with the document
content to run and without a ScheduleExpression, so that AWS's agent runs each once, now; DetailedStatus is
Pending until the node says it is running it (AWS's agent runs a run-once association only while Pending).
A final report completes the target, records the node's status and, with SyncCompliance AUTO, the node's
Association compliance item (COMPLIANT on Success).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.services import association_executions as executions
from openssm.services import association_store as store
from openssm.services import association_targets, compliance, documents, instances
from openssm.services.association_model import Association, AssociationSpec, InstanceStatus, OutputLocation
from openssm.services.compliance import ExecutionSummary, ItemInput
from openssm.services.instances import InvalidInstanceId
from openssm.services.parameter_model import Scope
from openssm.services.resource_tags import ResourceTagStore
from openssm.store.tables.associations import (
    association_executions,
    associations,
    execution_targets,
    instance_statuses,
)

log = logging.getLogger(__name__)
RUNNING = ("Pending", "InProgress", "Associated")  # what an agent reports before the end
MAX_SUMMARY = 512


@dataclass(frozen=True)
class NodeAssociation:
    """One association a node is to run now (AWS's InstanceAssociationSummary, with the content to run)."""

    association_id: str
    association_name: str | None
    association_version: int
    document_name: str
    document_version: str
    instance_id: str
    content: str
    checksum: str
    parameters: dict[str, tuple[str, ...]]
    detailed_status: str
    output_location: OutputLocation | None
    last_execution_at: dt.datetime | None


def to_run(conn: Connection, account_id: str, region: str, instance_id: str,
           now: dt.datetime) -> list[NodeAssociation]:
    """ListInstanceAssociations: the node's started targets, newest execution of each association only."""
    t, e, a = execution_targets.c, association_executions.c, associations.c
    rows = conn.execute(
        sa.select(t.execution_id, e.association_id, e.association_version, e.document_version, e.created_at,
                  a.last_execution_at)
        .join(association_executions, e.execution_id == t.execution_id)
        .join(associations, a.association_id == e.association_id)
        .where(t.resource_id == instance_id, t.status == "InProgress", a.account_id == account_id,
               a.region == region).order_by(e.created_at.desc())).all()
    running = _running_executions(conn, instance_id)
    out, seen = [], set()
    for r in rows:
        if r.association_id in seen:
            continue
        seen.add(r.association_id)
        spec = store.spec_of(conn, r.association_id, r.association_version)
        try:
            document = documents.find(conn, Scope(account_id, region, "", now), spec.name, r.document_version)
        except AwsError as err:  # deleted (or unshared) since it started: nothing to run
            log.warning("association %s: document %s unavailable: %s", r.association_id, spec.name, err.message)
            continue
        out.append(NodeAssociation(
            r.association_id, spec.association_name, r.association_version, spec.name, r.document_version,
            instance_id, document.content, document.content_hash, dict(spec.parameters),
            "InProgress" if r.execution_id in running else "Pending", spec.output_location, r.last_execution_at))
    return out


def _running_executions(conn: Connection, instance_id: str) -> set[str]:
    s = instance_statuses.c
    return {r.execution_id for r in conn.execute(sa.select(s.execution_id).where(
        s.instance_id == instance_id, s.status == "InProgress"))}


@dataclass(frozen=True)
class ExecutionResult:
    """UpdateInstanceAssociationStatus's ExecutionResult."""

    status: str
    execution_date: dt.datetime
    execution_summary: str
    error_code: str = ""
    output_url: str | None = None


def report(conn: Connection, account_id: str, region: str, instance_id: str, association_id: str,
           result: ExecutionResult, now: dt.datetime) -> list[str]:
    """A node's report: its open targets move on, its status is recorded, and at the end its compliance item.
    Answers the executions whose targets finished (their next ones may start)."""
    association = store.row(conn, account_id, region, association_id)
    open_targets = _open_targets(conn, association_id, instance_id)
    final = result.status not in RUNNING
    version, document_version, execution_id = association.association_version, None, None
    for target in open_targets:  # newest first; older ones are covered by the node's run of the newest
        execution = executions.lock(conn, target.execution_id)
        assert execution is not None
        if execution_id is None:
            version, document_version, execution_id = (execution.association_version,
                                                       execution.document_version, execution.execution_id)
        _move_target(conn, execution.execution_id, instance_id, result, final, now)
    spec = store.spec_of(conn, association_id, version)
    document_version = document_version or spec.document_version
    _record_status(conn, account_id, region, association_id, instance_id, version, document_version,
                   execution_id, result)
    if not final:
        return []
    conn.execute(sa.update(associations).where(associations.c.association_id == association_id).values(
        last_execution_at=now, **({"last_successful_at": now} if result.status == "Success" else {})))
    if spec.sync_compliance == "AUTO":
        _put_compliance(conn, account_id, region, association_id, instance_id, spec, document_version,
                        execution_id, result, now)
    for target in open_targets:
        executions.settle(conn, target.execution_id, now, ran=True)
    return [t.execution_id for t in open_targets]


def _open_targets(conn: Connection, association_id: str, instance_id: str) -> list[sa.Row[tuple[object, ...]]]:
    t, e = execution_targets.c, association_executions.c
    return list(conn.execute(sa.select(t.execution_id).join(association_executions, e.execution_id == t.execution_id)
                             .where(t.association_id == association_id, t.resource_id == instance_id,
                                    t.status == "InProgress").order_by(e.created_at.desc())))


def _move_target(conn: Connection, execution_id: str, instance_id: str, result: ExecutionResult, final: bool,
                 now: dt.datetime) -> None:
    t = execution_targets.c
    where = (t.execution_id == execution_id, t.resource_id == instance_id, t.status == "InProgress")
    if final:
        status = "Success" if result.status == "Success" else "Failed"
        conn.execute(sa.update(execution_targets).where(*where).values(
            status=status, detailed_status=result.status, last_execution_at=now))
    else:
        conn.execute(sa.update(execution_targets).where(*where).values(detailed_status=result.status))


def _instance_status(reported: str) -> str:
    if reported in ("Success", "Pending", "InProgress"):
        return reported
    return "Pending" if reported == "Associated" else "Failed"


def _record_status(conn: Connection, account_id: str, region: str, association_id: str, instance_id: str,
                   version: int, document_version: str, execution_id: str | None, result: ExecutionResult) -> None:
    s = instance_statuses.c
    values = dict(association_version=version, document_version=document_version, execution_id=execution_id,
                  execution_date=result.execution_date, status=_instance_status(result.status),
                  detailed_status=result.status, execution_summary=result.execution_summary[:MAX_SUMMARY],
                  error_code=result.error_code, output_url=result.output_url)
    if not conn.execute(sa.update(instance_statuses).where(
            s.association_id == association_id, s.instance_id == instance_id).values(values)).rowcount:
        conn.execute(sa.insert(instance_statuses).values(association_id=association_id, instance_id=instance_id,
                                                         account_id=account_id, region=region, **values))


def _put_compliance(conn: Connection, account_id: str, region: str, association_id: str, instance_id: str,
                    spec: AssociationSpec, document_version: str, execution_id: str | None,
                    result: ExecutionResult, now: dt.datetime) -> None:
    item = ItemInput(association_id, spec.name, spec.compliance_severity,
                     compliance.COMPLIANT if result.status == "Success" else compliance.NON_COMPLIANT,
                     {"DocumentName": spec.name, "DocumentVersion": document_version})
    compliance.put_items(conn, account_id, region, instance_id, compliance.RESOURCE_TYPE, "Association",
                         ExecutionSummary(result.execution_date, execution_id, "Command"), [item], now,
                         upload_type="PARTIAL")


def statuses(conn: Connection, account_id: str, region: str, instance_id: str) -> list[InstanceStatus]:
    """DescribeInstanceAssociationsStatus: the node's status for each association that applies to it."""
    s, a = instance_statuses.c, associations.c
    rows = conn.execute(sa.select(instance_statuses, a.name, a.association_name).join(
        associations, a.association_id == s.association_id).where(
        s.instance_id == instance_id, s.account_id == account_id, s.region == region)
        .order_by(s.association_id)).all()
    return [InstanceStatus(r.association_id, r.name, r.association_name, r.association_version, r.document_version,
                           r.instance_id, r.execution_date, r.status, r.detailed_status, r.execution_summary,
                           r.error_code, r.output_url) for r in rows]


def effective(conn: Connection, account_id: str, region: str, instance_id: str,
              now: dt.datetime) -> list[tuple[Association, str]]:
    """DescribeEffectiveInstanceAssociations: the associations whose targets include the node now, each with
    the content of the document version it runs."""
    node = instances.get(conn, account_id, region, instance_id, now)
    if node is None:
        raise InvalidInstanceId(f"Instance Id {instance_id} is not a registered managed node.")
    tagged = [(node, ResourceTagStore().of(conn, account_id, region, "ManagedInstance", instance_id))]
    found = store.describe(conn, store.of_account(conn, account_id, region))
    out = []
    for association in found:
        if association_targets.nodes_of(association.spec, tagged):
            spec = association.spec
            version = None if spec.document_version == "$DEFAULT" else spec.document_version
            try:
                document = documents.find(conn, Scope(account_id, region, "", now), spec.name, version)
            except AwsError:  # its document is gone: it no longer applies
                continue
            out.append((association, document.content))
    return out
