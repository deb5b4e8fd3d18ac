"""State Manager's runs over JSON 1.1: DescribeAssociationExecutions, DescribeAssociationExecutionTargets,
DescribeInstanceAssociationsStatus, DescribeEffectiveInstanceAssociations, and the agent's own
ListInstanceAssociations and UpdateInstanceAssociationStatus (only the node itself may call them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_association_common import (
    association_ref,
    deliver,
    output_location_out,
    run_executions,
)
from openssm.api.handlers.ssm_common import node_ref, page_start, page_token, paginate, without_nones
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AccessDenied, ValidationError
from openssm.services import association_executions, association_reports, association_store, instances
from openssm.services.association_executions import ExecutionFilter
from openssm.services.association_model import AssociationExecutionDoesNotExist
from openssm.services.association_reports import ExecutionResult
from openssm.services.instances import InvalidInstanceId

PAGE = 50
EFFECTIVE_PAGE = 5
_EXECUTION_FILTER_TYPES = {"ExecutionId": ("EQUAL",), "Status": ("EQUAL",),
                           "CreatedTime": ("EQUAL", "LESS_THAN", "GREATER_THAN")}


def _by_association(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [association_ref(ctx, p["AssociationId"])]


def _by_node(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [node_ref(ctx, p["InstanceId"])]


def _execution_filter(f: dict[str, str]) -> ExecutionFilter:
    key, kind, value = f["Key"], f["Type"], f["Value"]
    if kind not in _EXECUTION_FILTER_TYPES[key]:
        raise ValidationError(f"The filter {key} takes the type {' or '.join(_EXECUTION_FILTER_TYPES[key])}, "
                              f"not {kind}.")
    if key != "CreatedTime":
        return ExecutionFilter(key, value, kind)
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise ValidationError(f"The CreatedTime filter's value {value} is not a date and time such as "
                              "2026-01-31T00:00:00Z.") from err
    return ExecutionFilter(key, when if when.tzinfo else when.replace(tzinfo=dt.UTC), kind)


def describe_association_executions(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = [_execution_filter(f) for f in p.get("Filters") or ()]
    start, size = page_start(p.get("NextToken")), p.get("MaxResults") or PAGE
    with ctx.container.db.read() as conn:
        association_store.row(conn, ctx.account_id, ctx.region, p["AssociationId"])
        found, more = association_executions.executions(conn, p["AssociationId"], filters, start, size)
    return without_nones({
        "AssociationExecutions": [without_nones({
            "AssociationId": e.association_id, "AssociationVersion": str(e.association_version),
            "ExecutionId": e.execution_id, "Status": e.status, "DetailedStatus": e.detailed_status,
            "CreatedTime": e.created_at, "LastExecutionDate": e.last_execution_at,
            "ResourceCountByStatus": e.resource_count_by_status}) for e in found],
        "NextToken": page_token(start + size) if more else None})


def describe_association_execution_targets(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = {f["Key"]: f["Value"] for f in p.get("Filters") or ()}
    start, size = page_start(p.get("NextToken")), p.get("MaxResults") or PAGE
    with ctx.container.db.read() as conn:
        association_store.row(conn, ctx.account_id, ctx.region, p["AssociationId"])
        execution = association_executions.execution_row(conn, p["AssociationId"], p["ExecutionId"])
        if execution is None:
            raise AssociationExecutionDoesNotExist(
                f"The execution ID {p['ExecutionId']} doesn't exist for association {p['AssociationId']}. "
                "Verify the ID number and try again.")
        found, more = association_executions.targets(conn, p["AssociationId"], p["ExecutionId"],
                                                     execution.association_version, filters, start, size)
    return without_nones({
        "AssociationExecutionTargets": [without_nones({
            "AssociationId": t.association_id, "AssociationVersion": str(t.association_version),
            "ExecutionId": t.execution_id, "ResourceId": t.resource_id, "ResourceType": t.resource_type,
            "Status": t.status, "DetailedStatus": t.detailed_status, "LastExecutionDate": t.last_execution_at,
            "OutputSource": {"OutputSourceId": t.command_id, "OutputSourceType": "RunCommand"}
            if t.command_id else None}) for t in found],
        "NextToken": page_token(start + size) if more else None})


def _known_node(ctx: RequestContext, instance_id: str) -> None:
    with ctx.container.db.read() as conn:
        if instances.get(conn, ctx.account_id, ctx.region, instance_id, ctx.now) is None:
            raise InvalidInstanceId(f"Instance Id {instance_id} is not a registered managed node of account "
                                    f"{ctx.account_id}.")


def describe_instance_associations_status(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _known_node(ctx, p["InstanceId"])
    with ctx.container.db.read() as conn:
        found = association_reports.statuses(conn, ctx.account_id, ctx.region, p["InstanceId"])
    page, token = paginate(p, found, PAGE)
    return without_nones({
        "InstanceAssociationStatusInfos": [without_nones({
            "AssociationId": s.association_id, "Name": s.name, "DocumentVersion": s.document_version,
            "AssociationVersion": str(s.association_version), "InstanceId": s.instance_id,
            "ExecutionDate": s.execution_date, "Status": s.status, "DetailedStatus": s.detailed_status,
            "ExecutionSummary": s.execution_summary or None, "ErrorCode": s.error_code,
            "OutputUrl": {"S3OutputUrl": {"OutputUrl": s.output_url}} if s.output_url else None,
            "AssociationName": s.association_name}) for s in page],
        "NextToken": token})


def describe_effective_instance_associations(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = association_reports.effective(conn, ctx.account_id, ctx.region, p["InstanceId"], ctx.now)
    page, token = paginate(p, found, EFFECTIVE_PAGE)
    return without_nones({
        "Associations": [{"AssociationId": a.association_id, "InstanceId": p["InstanceId"], "Content": content,
                          "AssociationVersion": str(a.version)} for a, content in page],
        "NextToken": token})


def _only_the_node(ctx: RequestContext, p: Params) -> None:
    if ctx.caller.instance_id != p["InstanceId"]:
        raise AccessDenied(f"User: {ctx.caller.arn} is not authorized to perform: ssm:{ctx.operation} on "
                           f"resource: arn:aws:ssm:{ctx.region}:{ctx.account_id}:managed-instance/"
                           f"{p['InstanceId']} because only the node itself may call it")


def list_instance_associations(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _only_the_node(ctx, p)
    with ctx.container.db.read() as conn:
        found = association_reports.to_run(conn, ctx.account_id, ctx.region, p["InstanceId"], ctx.now)
    page, token = paginate(p, found, PAGE)
    return without_nones({
        "Associations": [without_nones({
            "AssociationId": a.association_id, "AssociationName": a.association_name,
            "AssociationVersion": str(a.association_version), "Name": a.document_name,
            "DocumentVersion": a.document_version, "InstanceId": a.instance_id, "Content": a.content,
            "Checksum": a.checksum, "Parameters": {k: list(v) for k, v in a.parameters.items()},
            "Status": "Pending" if a.detailed_status == "Pending" else "InProgress",
            "DetailedStatus": a.detailed_status, "OutputLocation": output_location_out(a.output_location),
            "LastExecutionDate": a.last_execution_at}) for a in page],
        "NextToken": token})


def update_instance_association_status(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _only_the_node(ctx, p)
    raw = p["ExecutionResult"]
    url = ((raw.get("OutputUrl") or {}).get("S3OutputUrl") or {}).get("OutputUrl")
    result = ExecutionResult(raw["Status"], raw["ExecutionDate"], raw["ExecutionSummary"], raw.get("ErrorCode") or "",
                             url or None)
    with ctx.container.db.begin() as conn:
        finished = association_reports.report(conn, ctx.account_id, ctx.region, p["InstanceId"],
                                              p["AssociationId"], result, ctx.now)
        sent = run_executions(ctx, conn, finished)
    deliver(ctx, sent)
    return {}


OPERATIONS = [
    Operation("ssm", "DescribeAssociationExecutions", describe_association_executions, resources=_by_association,
              read_only=True),
    Operation("ssm", "DescribeAssociationExecutionTargets", describe_association_execution_targets,
              resources=_by_association, read_only=True),
    Operation("ssm", "DescribeInstanceAssociationsStatus", describe_instance_associations_status,
              resources=_by_node, read_only=True),
    Operation("ssm", "DescribeEffectiveInstanceAssociations", describe_effective_instance_associations,
              resources=_by_node, read_only=True),
    Operation("ssm", "ListInstanceAssociations", list_instance_associations, resources=_by_node, read_only=True),
    Operation("ssm", "UpdateInstanceAssociationStatus", update_instance_association_status, resources=_by_node),
]
