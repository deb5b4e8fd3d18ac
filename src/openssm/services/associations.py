"""State Manager associations: CreateAssociation, UpdateAssociation (a new version each time), DeleteAssociation,
DescribeAssociation, ListAssociations, ListAssociationVersions and StartAssociationsOnce.

An association binds a Command document, its parameters and a schedule to targets. It runs when created
(unless ApplyOnlyAtCronInterval), at each schedule tick, when StartAssociationsOnce asks, when updated, and on
each node that newly matches its targets (association_scheduler.py); each run is an execution
(association_executions.py) whose targets are started by association_dispatch.py and completed by the nodes'
reports (association_reports.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import association_executions as executions
from openssm.services import association_rules as rules
from openssm.services import association_store as store
from openssm.services import association_targets, document_parameters, documents, instances
from openssm.services.association_model import (
    MAX_ASSOCIATIONS,
    MAX_VERSIONS,
    Association,
    AssociationAlreadyExists,
    AssociationDoesNotExist,
    AssociationLimitExceeded,
    AssociationSpec,
    AssociationVersion,
    AssociationVersionLimitExceeded,
    InvalidAssociationVersion,
    InvalidUpdate,
    association_arn,
)
from openssm.services.association_targets import Tagged
from openssm.services.documents import DocumentVersion, InvalidDocument
from openssm.services.instances import InvalidInstanceId
from openssm.services.parameter_model import Scope
from openssm.services.resource_tags import ResourceTagStore, unknown_resource
from openssm.store.tables.associations import association_versions, associations

TAG_KIND = "Association"


@dataclass(frozen=True)
class Run:
    """What creating, updating or starting an association set off: its id and the execution (if any node)."""

    association_id: str
    execution_id: str | None


def document_of(conn: Connection, account_id: str, region: str, spec: AssociationSpec,
                now: dt.datetime) -> DocumentVersion:
    """The version of the document the association runs, as its owner's account sees it."""
    version = None if spec.document_version == "$DEFAULT" else spec.document_version
    return documents.find(conn, Scope(account_id, region, "", now), spec.name, version)


def check(conn: Connection, account_id: str, region: str, spec: AssociationSpec, now: dt.datetime) -> None:
    """Every rule CreateAssociation and UpdateAssociation apply, in AWS's order: targets, schedule, output,
    then the document and the parameters it declares."""
    rules.check_targets(spec)
    rules.schedule_of(spec)
    rules.check_output_location(spec)
    document = document_of(conn, account_id, region, spec, now)
    if spec.automation_target_parameter_name is not None:
        raise InvalidDocument(f"AutomationTargetParameterName is only for Automation runbooks, and document "
                              f"{document.name} is a {document.document_type} document. OpenSSM runs no "
                              "Automation runbooks.")
    if document.document_type != "Command":
        raise InvalidDocument(f"Document {document.name} is a {document.document_type} document; State Manager "
                              "associations run Command documents.")
    _check_parameters(document, spec.parameters)
    if spec.instance_id and instances.get(conn, account_id, region, spec.instance_id, now) is None:
        raise InvalidInstanceId(f"Instances [[{spec.instance_id}]] not in a valid state for account {account_id}")


def _check_parameters(document: DocumentVersion, given: Mapping[str, Sequence[str]]) -> None:
    """The values against the document's declarations; a value with `{{ssm:name}}` is resolved by the node
    when it runs, so only its name is checked here."""
    later = {k for k, v in given.items() if document_parameters.ssm_references(list(v))}
    declared = {d.name for d in document.parsed.parameters}
    document_parameters.resolve(
        document.name, [d for d in document.parsed.parameters if d.name not in later],
        {k: list(v) for k, v in given.items() if k not in later or k not in declared})


def create(conn: Connection, account_id: str, region: str, spec: AssociationSpec, tags: Mapping[str, str],
           now: dt.datetime) -> Run:
    if store.count(conn, account_id, region) >= MAX_ASSOCIATIONS:
        raise AssociationLimitExceeded(f"You can have at most {MAX_ASSOCIATIONS:,} active associations.")
    check(conn, account_id, region, spec, now)
    if spec.instance_id:
        c = associations.c
        if conn.execute(sa.select(c.association_id).where(
                c.account_id == account_id, c.region == region, c.name == spec.name,
                c.instance_id == spec.instance_id)).first() is not None:
            raise AssociationAlreadyExists("The specified association already exists.")
    association_id = str(uuid.uuid4())
    conn.execute(sa.insert(associations).values(
        association_id=association_id, account_id=account_id, region=region, created_at=now,
        **_current(spec, 1, now, rules.next_run(spec, rules.schedule_of(spec), now, now))))
    _add_version(conn, association_id, 1, spec, now)
    ResourceTagStore().add(conn, account_id, region, TAG_KIND, association_id, tags)
    return Run(association_id, run(conn, account_id, region, association_id, 1, spec, now,
                                   only_mark=spec.apply_only_at_cron_interval))


def _current(spec: AssociationSpec, version: int, now: dt.datetime,
             next_run_at: dt.datetime | None) -> dict[str, object]:
    """The columns of the associations table that follow the current version."""
    return dict(name=spec.name, instance_id=spec.instance_id, association_name=spec.association_name,
                association_version=version, schedule_expression=spec.schedule_expression, updated_at=now,
                next_run_at=next_run_at)


def _add_version(conn: Connection, association_id: str, version: int, spec: AssociationSpec,
                 now: dt.datetime) -> None:
    conn.execute(sa.insert(association_versions).values(association_id=association_id,
                                                         association_version=version, created_at=now,
                                                         spec=spec.to_json()))


def run(conn: Connection, account_id: str, region: str, association_id: str, version: int, spec: AssociationSpec,
        now: dt.datetime, *, tagged: Sequence[Tagged] | None = None, only_mark: bool = False,
        nodes: Sequence[instances.ManagedInstance] | None = None) -> str | None:
    """A new execution over the nodes the association applies to now (or `nodes`); with `only_mark`, the
    nodes are only recorded as matching (ApplyOnlyAtCronInterval waits for the schedule)."""
    document_version = str(document_of(conn, account_id, region, spec, now).version)
    if nodes is None:
        fleet = tagged if tagged is not None else association_targets.fleet(conn, account_id, region, now)
        nodes = association_targets.nodes_of(spec, fleet)
    if only_mark:
        executions.mark_known(conn, account_id, region, association_id, version, document_version,
                              [n.instance_id for n in nodes])
        return None
    return executions.start(conn, account_id, region, association_id, version, document_version, nodes, now)


def update(conn: Connection, account_id: str, region: str, association_id: str, spec: AssociationSpec,
           expected_version: str | None, now: dt.datetime) -> Run:
    """A new version with `spec` (the caller's request with what AWS keeps: the document and the targets), which
    runs at once unless ApplyOnlyAtCronInterval."""
    current = store.row(conn, account_id, region, association_id)
    if expected_version not in (None, "$LATEST") and int(str(expected_version)) != current.association_version:
        raise InvalidAssociationVersion(
            f"Association version {expected_version} is not the latest version ({current.association_version}) "
            f"of association {association_id}; describe the association and retry with its current version.")
    if current.instance_id and spec.targets:
        raise InvalidUpdate(f"Association {association_id} was created for one node (InstanceId); its targets "
                            "can't be changed to Targets. Create a new association instead.")
    version = current.association_version + 1
    if version > MAX_VERSIONS:
        raise AssociationVersionLimitExceeded(f"Association {association_id} has {MAX_VERSIONS:,} versions, the "
                                              "most an association may have.")
    check(conn, account_id, region, spec, now)
    conn.execute(sa.update(associations).where(associations.c.association_id == association_id).values(
        **_current(spec, version, now, rules.next_run(spec, rules.schedule_of(spec), now, current.created_at))))
    _add_version(conn, association_id, version, spec, now)
    return Run(association_id, run(conn, account_id, region, association_id, version, spec, now,
                                   only_mark=spec.apply_only_at_cron_interval))


def delete(conn: Connection, account_id: str, region: str, association_id: str) -> None:
    """The association, its versions, executions and node statuses; nodes are no longer offered it."""
    store.row(conn, account_id, region, association_id)
    conn.execute(sa.delete(associations).where(associations.c.association_id == association_id))
    ResourceTagStore().drop(conn, account_id, region, TAG_KIND, association_id)


def describe(conn: Connection, account_id: str, region: str, association_id: str,
             version: str | None = None) -> Association:
    r = store.row(conn, account_id, region, association_id)
    wanted = r.association_version if version in (None, "$LATEST") else int(str(version))
    return store.describe(conn, [r], {association_id: wanted})[0]


def versions(conn: Connection, account_id: str, region: str, association_id: str) -> list[AssociationVersion]:
    """ListAssociationVersions, oldest first."""
    store.row(conn, account_id, region, association_id)
    c = association_versions.c
    return [AssociationVersion(association_id, r.association_version, r.created_at, AssociationSpec.from_json(r.spec))
            for r in conn.execute(sa.select(association_versions).where(c.association_id == association_id)
                                  .order_by(c.association_version))]


def start_once(conn: Connection, account_id: str, region: str, association_ids: Sequence[str],
               now: dt.datetime) -> list[str]:
    """StartAssociationsOnce: each association runs now on the nodes it applies to; answers the executions."""
    rows = [store.row(conn, account_id, region, i) for i in dict.fromkeys(association_ids)]
    fleet = association_targets.fleet(conn, account_id, region, now)
    started = []
    for r in rows:
        spec = store.spec_of(conn, r.association_id, r.association_version)
        execution_id = run(conn, account_id, region, r.association_id, r.association_version, spec, now,
                           tagged=fleet)
        if execution_id is not None:
            started.append(execution_id)
    return started


LIST_FILTER_KEYS = ("InstanceId", "Name", "AssociationId", "AssociationStatusName", "LastExecutedBefore",
                    "LastExecutedAfter", "AssociationName", "ResourceGroupName", "CloudConnectorId")


def list_associations(conn: Connection, account_id: str, region: str,
                      filters: Sequence[tuple[str, str]]) -> list[Association]:
    """ListAssociations, oldest first. Every filter must match. As at AWS, InstanceId finds only legacy
    associations (made with InstanceId), not those whose Targets include the node."""
    rows = [r for r in store.of_account(conn, account_id, region) if all(_row_matches(r, k, v) for k, v in filters)]
    found = store.describe(conn, rows)
    wanted = [v for k, v in filters if k == "AssociationStatusName"]
    return [a for a in found if all(a.overview.status == v for v in wanted)]


def _row_matches(r: sa.Row[tuple[object, ...]], key: str, value: str) -> bool:
    if key in ("LastExecutedBefore", "LastExecutedAfter"):
        when, last = filter_date(key, value), r.last_execution_at
        return last is not None and (last < when if key == "LastExecutedBefore" else last > when)
    fields = {"InstanceId": r.instance_id, "Name": r.name, "AssociationId": r.association_id,
              "AssociationName": r.association_name}
    if key in fields:
        return bool(fields[key] == value)
    return key == "AssociationStatusName"  # judged on the Overview; resource groups and connectors: none here


def filter_date(key: str, value: str) -> dt.datetime:
    """A date filter's value (ISO 8601; UTC when it names no zone); ValidationError otherwise."""
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise ValidationError(f"The value {value} of filter {key} is not a date and time such as "
                              "2026-01-31T00:00:00Z.") from err
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class AssociationTagTarget:
    """Makes associations taggable (AddTagsToResource with ResourceType Association, by id)."""

    def tag_resource_id(self, conn: Connection, scope: Scope, resource_id: str) -> str:
        try:
            store.row(conn, scope.account_id, scope.region, resource_id)
        except AssociationDoesNotExist as err:
            raise unknown_resource() from err
        return resource_id

    def tag_resource_arn(self, scope: Scope, resource_id: str) -> str:
        return association_arn(scope.region, scope.account_id, resource_id)
