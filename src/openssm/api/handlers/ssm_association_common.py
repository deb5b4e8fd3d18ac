"""Shared pieces of the State Manager handlers: an association's settings from and to the wire, the resources
calls are authorized on (the association, its document, the nodes it names), and handing started runs to
the nodes' control channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import node_ref, without_nones
from openssm.api.operations import Params, ResourceRef
from openssm.services import association_dispatch
from openssm.services.association_dispatch import Sent
from openssm.services.association_model import (
    DEFAULT_DOCUMENT_VERSION,
    Association,
    AssociationSpec,
    OutputLocation,
    Target,
    association_arn,
)
from openssm.services.associations import TAG_KIND
from openssm.store.lazy import LazyMapping


def spec_from(p: Params) -> AssociationSpec:
    """CreateAssociation's members (or a batch entry, or UpdateAssociation's merged ones) as settings."""
    location = (p.get("OutputLocation") or {}).get("S3Location")
    return AssociationSpec(
        name=p["Name"], document_version=p.get("DocumentVersion") or DEFAULT_DOCUMENT_VERSION,
        instance_id=p.get("InstanceId") or None,
        targets=tuple(Target(t["Key"], tuple(t.get("Values") or ())) for t in p.get("Targets") or ()),
        parameters={k: tuple(v) for k, v in (p.get("Parameters") or {}).items()},
        schedule_expression=p.get("ScheduleExpression"), schedule_offset=p.get("ScheduleOffset"),
        apply_only_at_cron_interval=bool(p.get("ApplyOnlyAtCronInterval")),
        output_location=OutputLocation(location.get("OutputS3BucketName") or "",
                                       location.get("OutputS3KeyPrefix") or "",
                                       location.get("OutputS3Region")) if location is not None else None,
        association_name=p.get("AssociationName"), max_concurrency=p.get("MaxConcurrency"),
        max_errors=p.get("MaxErrors"), compliance_severity=p.get("ComplianceSeverity") or "UNSPECIFIED",
        sync_compliance=p.get("SyncCompliance") or "AUTO",
        automation_target_parameter_name=p.get("AutomationTargetParameterName"))


def output_location_out(location: OutputLocation | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"S3Location": without_nones({"OutputS3BucketName": location.bucket,
                                         "OutputS3KeyPrefix": location.prefix or None,
                                         "OutputS3Region": location.region})}


def spec_out(s: AssociationSpec) -> dict[str, Any]:
    """The members an association version shows (AssociationVersionInfo's and AssociationDescription's)."""
    return without_nones({
        "Name": s.name, "DocumentVersion": s.document_version,
        "Parameters": {k: list(v) for k, v in s.parameters.items()} or None,
        "Targets": [{"Key": t.key, "Values": list(t.values)} for t in s.targets] or None,
        "ScheduleExpression": s.schedule_expression, "OutputLocation": output_location_out(s.output_location),
        "AssociationName": s.association_name, "MaxErrors": s.max_errors, "MaxConcurrency": s.max_concurrency,
        "ComplianceSeverity": s.compliance_severity, "SyncCompliance": s.sync_compliance,
        "ApplyOnlyAtCronInterval": s.apply_only_at_cron_interval, "ScheduleOffset": s.schedule_offset})


def description_out(a: Association) -> dict[str, Any]:
    overview = without_nones({"Status": a.overview.status, "DetailedStatus": a.overview.detailed_status,
                              "AssociationStatusAggregatedCount": dict(a.overview.counts) or None})
    out = {**spec_out(a.spec), "AssociationId": a.association_id, "AssociationVersion": str(a.version),
           "Date": a.created_at, "LastUpdateAssociationDate": a.updated_at, "Overview": overview,
           "InstanceId": a.spec.instance_id, "LastExecutionDate": a.last_execution_at,
           "LastSuccessfulExecutionDate": a.last_successful_at}
    if a.spec.instance_id:  # a legacy association also answers with AssociationStatus (what old agents read)
        out["Status"] = {"Date": a.last_execution_at or a.updated_at, "Name": a.overview.status,
                         "Message": a.overview.detailed_status}
    return without_nones(out)


def association_ref(ctx: RequestContext, association_id: str) -> ResourceRef:
    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, TAG_KIND, association_id)

    return ResourceRef(association_arn(ctx.region, ctx.account_id, association_id), LazyMapping(load_tags))


def instance_refs(ctx: RequestContext, p: Params) -> list[ResourceRef]:
    """The nodes a request names by id: the legacy InstanceId and Targets' InstanceIds (not `*`)."""
    ids = [p["InstanceId"]] if p.get("InstanceId") else []
    ids += [v for t in p.get("Targets") or () if t.get("Key") == "InstanceIds" for v in t.get("Values") or ()
            if v != "*"]
    return [node_ref(ctx, i) for i in dict.fromkeys(ids)]


def run_executions(ctx: RequestContext, conn: Connection, execution_ids: Sequence[str]) -> list[Sent]:
    """Start what the new executions' rate controls allow, in the caller's transaction."""
    return association_dispatch.dispatch(conn, execution_ids, ctx.now, ctx.container.command_hub.connected)


def deliver(ctx: RequestContext, sent: Sequence[Sent]) -> None:
    """After the commit: the started nodes' channels get their AWS-RefreshAssociation job."""
    association_dispatch.deliver(ctx.container.command_hub, sent)
