"""State Manager associations over JSON 1.1: CreateAssociation, CreateAssociationBatch, DescribeAssociation,
ListAssociations, UpdateAssociation, DeleteAssociation, ListAssociationVersions, StartAssociationsOnce."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_association_common import (
    association_ref,
    deliver,
    description_out,
    instance_refs,
    run_executions,
    spec_from,
    spec_out,
)
from openssm.api.handlers.ssm_common import (
    document_ref,
    facts,
    paginate,
    request_tags_condition,
    tag_map,
    without_nones,
)
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AwsError, ValidationError
from openssm.iam.ports import AuthorizationTarget
from openssm.services import association_store, associations
from openssm.services.association_dispatch import Sent
from openssm.services.association_model import Association, AssociationDoesNotExist, AssociationSpec

PAGE = 50
_UNSUPPORTED = {
    "CalendarNames": "OpenSSM has no Change Calendar",
    "TargetLocations": "associations run in their own account and region only",
    "TargetMaps": "target associations with Targets or InstanceId",
    "AlarmConfiguration": "OpenSSM has no CloudWatch alarms",
    "Duration": "associations run to the end of their targets",
    "AssociationDispatchAssumeRole": "State Manager dispatches with its own rights here",
}


def _refuse_unsupported(p: Params) -> None:
    for member, why in _UNSUPPORTED.items():
        if p.get(member):
            raise ValidationError(f"{member} is not supported by OpenSSM: {why}.")


def _create_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [document_ref(ctx, p["Name"]), *instance_refs(ctx, p)]


def _create_one(ctx: RequestContext, p: Params) -> tuple[str, list[Sent]]:
    _refuse_unsupported(p)
    spec = spec_from(p)
    with ctx.container.db.begin() as conn:
        run = associations.create(conn, ctx.account_id, ctx.region, spec, tag_map(p.get("Tags")), ctx.now)
        sent = run_executions(ctx, conn, [run.execution_id] if run.execution_id else [])
    return run.association_id, sent


def _described(ctx: RequestContext, association_id: str, version: str | None = None) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        return description_out(associations.describe(conn, ctx.account_id, ctx.region, association_id, version))


def create_association(ctx: RequestContext, p: Params) -> dict[str, Any]:
    association_id, sent = _create_one(ctx, p)
    deliver(ctx, sent)
    return {"AssociationDescription": _described(ctx, association_id)}


def _batch_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    refs: dict[str, ResourceRef] = {}
    for entry in p["Entries"]:
        for ref in (document_ref(ctx, entry["Name"]), *instance_refs(ctx, entry)):
            refs.setdefault(ref.arn, ref)
    return list(refs.values())


def create_association_batch(ctx: RequestContext, p: Params) -> dict[str, Any]:
    """Each entry on its own: those refused are listed under Failed with AWS's Fault and the reason."""
    _refuse_unsupported(p)
    created, failed, sent = [], [], []
    for entry in p["Entries"]:
        try:
            association_id, started = _create_one(ctx, entry)
        except AwsError as err:
            failed.append({"Entry": entry, "Message": err.message or err.code,
                           "Fault": "Client" if err.sender_fault else "Server"})
            continue
        created.append(association_id)
        sent += started
    deliver(ctx, sent)
    return {"Successful": [_described(ctx, i) for i in created], "Failed": failed}


def _association_id(ctx: RequestContext, conn: Connection, p: Params) -> str:
    """AssociationId, or the legacy Name + InstanceId."""
    if p.get("AssociationId"):
        return str(p["AssociationId"])
    if p.get("Name") and p.get("InstanceId"):
        return association_store.legacy_id(conn, ctx.account_id, ctx.region, p["Name"], p["InstanceId"])
    raise AssociationDoesNotExist("Specify the AssociationId, or the Name and InstanceId of the association.")


def _named_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    if p.get("AssociationId"):
        return [association_ref(ctx, p["AssociationId"])]
    if p.get("Name"):
        return [document_ref(ctx, p["Name"]), *instance_refs(ctx, p)]
    return []


def describe_association(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        association_id = _association_id(ctx, conn, p)
    return {"AssociationDescription": _described(ctx, association_id, p.get("AssociationVersion"))}


def list_associations(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = [(f["key"], f["value"]) for f in p.get("AssociationFilterList") or ()]
    with ctx.container.db.read() as conn:
        found = associations.list_associations(conn, ctx.account_id, ctx.region, filters)
    page, token = paginate(p, found, PAGE)
    return without_nones({"Associations": [_summary(a) for a in page],
                          "NextToken": token})


def _summary(a: Association) -> dict[str, Any]:
    """ListAssociations' Association: the description's members that it shares."""
    described = description_out(a)
    return {k: described[k] for k in _SUMMARY_MEMBERS if k in described}


_SUMMARY_MEMBERS = ("Name", "InstanceId", "AssociationId", "AssociationVersion", "DocumentVersion", "Targets",
                    "LastExecutionDate", "Overview", "ScheduleExpression", "AssociationName", "ScheduleOffset")


def _merged(current: AssociationSpec, p: Params) -> AssociationSpec:
    """UpdateAssociation as AWS documents it: every optional member left out is reset, except what the
    association runs on (Name, Targets, a legacy InstanceId), which is kept."""
    return spec_from({"Name": current.name, "InstanceId": current.instance_id,
                      "Targets": spec_out(current).get("Targets"), **{k: v for k, v in p.items() if v is not None}})


def update_association(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _refuse_unsupported(p)
    # AWS: "a user, group, or role must be granted permission to call the DescribeAssociation API operation".
    ref = association_ref(ctx, p["AssociationId"])
    ctx.container.authorizer.authorize(facts(ctx), "ssm:DescribeAssociation",
                                       [AuthorizationTarget(ref.arn, ref.tags)], {})
    with ctx.container.db.begin() as conn:
        current = associations.describe(conn, ctx.account_id, ctx.region, p["AssociationId"])
        spec = _merged(current.spec, {k: v for k, v in p.items() if k not in ("AssociationId", "AssociationVersion")})
        run = associations.update(conn, ctx.account_id, ctx.region, p["AssociationId"], spec,
                                  p.get("AssociationVersion"), ctx.now)
        sent = run_executions(ctx, conn, [run.execution_id] if run.execution_id else [])
    deliver(ctx, sent)
    return {"AssociationDescription": _described(ctx, p["AssociationId"])}


def delete_association(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        associations.delete(conn, ctx.account_id, ctx.region, _association_id(ctx, conn, p))
    return {}


def list_association_versions(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = associations.versions(conn, ctx.account_id, ctx.region, p["AssociationId"])
    page, token = paginate(p, found, PAGE)
    return without_nones({
        "AssociationVersions": [without_nones({
            "AssociationId": v.association_id, "AssociationVersion": str(v.version), "CreatedDate": v.created_at,
            **spec_out(v.spec)}) for v in page],
        "NextToken": token})


def _start_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [association_ref(ctx, i) for i in p["AssociationIds"]]


def start_associations_once(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        started = associations.start_once(conn, ctx.account_id, ctx.region, p["AssociationIds"], ctx.now)
        sent = run_executions(ctx, conn, started)
    deliver(ctx, sent)
    return {}


OPERATIONS = [
    Operation("ssm", "CreateAssociation", create_association, resources=_create_resources,
              condition_keys=request_tags_condition),
    Operation("ssm", "CreateAssociationBatch", create_association_batch, resources=_batch_resources),
    Operation("ssm", "DescribeAssociation", describe_association, resources=_named_resources, read_only=True),
    Operation("ssm", "ListAssociations", list_associations, read_only=True),
    Operation("ssm", "UpdateAssociation", update_association,
              resources=lambda ctx, p: [association_ref(ctx, p["AssociationId"])]),
    Operation("ssm", "DeleteAssociation", delete_association, resources=_named_resources),
    Operation("ssm", "ListAssociationVersions", list_association_versions,
              resources=lambda ctx, p: [association_ref(ctx, p["AssociationId"])], read_only=True),
    Operation("ssm", "StartAssociationsOnce", start_associations_once, resources=_start_resources),
]
