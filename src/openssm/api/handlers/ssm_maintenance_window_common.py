"""Shared pieces of the Maintenance Windows handlers: the resources calls are authorized on (the window's
ARN, with its tags; window targets' and tasks' ARNs), filters, and settings from and to the wire."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import without_nones
from openssm.api.operations import Params, ResourceRef
from openssm.errors import AwsError
from openssm.services import maintenance_windows_executions as executions
from openssm.services.maintenance_windows import TAG_KIND
from openssm.services.maintenance_windows_model import (
    Notification,
    RunCommand,
    Target,
    TargetSpec,
    TaskSpec,
    window_arn,
)
from openssm.store.lazy import LazyMapping

PAGE = 50


def window_ref(ctx: RequestContext, window_id: str) -> ResourceRef:
    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, TAG_KIND, window_id)

    return ResourceRef(window_arn(ctx.region, ctx.account_id, window_id), LazyMapping(load_tags))


def window_resource(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [window_ref(ctx, p["WindowId"])]


def target_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """The window and the window target a call names (AWS's `windowtarget` resource)."""
    return [window_ref(ctx, p["WindowId"]),
            ResourceRef(f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:windowtarget/{p['WindowTargetId']}")]


def task_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """The window and the window task a call names (AWS's `windowtask` resource)."""
    return [window_ref(ctx, p["WindowId"]),
            ResourceRef(f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:windowtask/{p['WindowTaskId']}")]


def execution_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """An execution's calls are authorized on its window; an unknown execution is refused by the handler."""
    try:
        with ctx.container.db.read() as conn:
            window_id = executions.window_of(conn, ctx.account_id, ctx.region, p["WindowExecutionId"])
    except AwsError:
        return [ResourceRef("*")]
    return [window_ref(ctx, window_id)]


def filters_from(p: Params) -> list[tuple[str, list[str]]]:
    return [(f["Key"], list(f.get("Values") or ())) for f in p.get("Filters") or ()]


def targets_from(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Target, ...]:
    return tuple(Target(t["Key"], tuple(t.get("Values") or ())) for t in raw or ())


def targets_out(targets: Sequence[Target]) -> list[dict[str, Any]]:
    return [{"Key": t.key, "Values": list(t.values)} for t in targets]


def target_spec_from(p: Params) -> TargetSpec:
    return TargetSpec(p.get("ResourceType") or "INSTANCE", targets_from(p.get("Targets")), p.get("OwnerInformation"),
                      p.get("Name"), p.get("Description"))


def run_command_from(raw: Mapping[str, Any] | None) -> RunCommand | None:
    if raw is None:
        return None
    note = raw.get("NotificationConfig")
    cloudwatch = raw.get("CloudWatchOutputConfig") or {}
    return RunCommand(
        {k: tuple(v) for k, v in (raw.get("Parameters") or {}).items()}, raw.get("DocumentVersion"),
        raw.get("DocumentHash"), raw.get("DocumentHashType"), raw.get("TimeoutSeconds"), raw.get("Comment"),
        raw.get("OutputS3BucketName"), raw.get("OutputS3KeyPrefix"), raw.get("ServiceRoleArn"),
        Notification(note.get("NotificationArn"), tuple(note.get("NotificationEvents") or ()),
                     note.get("NotificationType")) if note is not None else None,
        cloudwatch.get("CloudWatchLogGroupName"), cloudwatch.get("CloudWatchOutputEnabled"))


def task_spec_from(p: Params) -> TaskSpec:
    logging = p.get("LoggingInfo") or {}
    return TaskSpec(
        p["TaskArn"], p["TaskType"], targets_from(p.get("Targets")), 1 if p.get("Priority") is None else p["Priority"],
        p.get("MaxConcurrency"), p.get("MaxErrors"), p.get("ServiceRoleArn"),
        {k: tuple(v.get("Values") or ()) for k, v in (p.get("TaskParameters") or {}).items()},
        run_command_from((p.get("TaskInvocationParameters") or {}).get("RunCommand")),
        logging.get("S3BucketName"), logging.get("S3KeyPrefix"), logging.get("S3Region"), p.get("Name"),
        p.get("Description"), p.get("CutoffBehavior") or "CONTINUE_TASK")


def unsupported_invocation_parameters(p: Params) -> str | None:
    """The first non-RunCommand member of TaskInvocationParameters, if any."""
    return next((k for k in (p.get("TaskInvocationParameters") or {}) if k != "RunCommand"), None)


def run_command_out(run: RunCommand | None) -> dict[str, Any] | None:
    if run is None:
        return None
    note = run.notification
    return {"RunCommand": without_nones({
        "Parameters": {k: list(v) for k, v in run.parameters.items()} or None,
        "DocumentVersion": run.document_version, "DocumentHash": run.document_hash,
        "DocumentHashType": run.document_hash_type, "TimeoutSeconds": run.timeout_seconds, "Comment": run.comment,
        "OutputS3BucketName": run.output_s3_bucket, "OutputS3KeyPrefix": run.output_s3_prefix,
        "ServiceRoleArn": run.service_role_arn,
        "NotificationConfig": without_nones({"NotificationArn": note.arn, "NotificationEvents": list(note.events)
                                             or None, "NotificationType": note.type}) if note else None,
        "CloudWatchOutputConfig": without_nones({"CloudWatchLogGroupName": run.cloudwatch_log_group,
                                                 "CloudWatchOutputEnabled": run.cloudwatch_enabled})
        if run.cloudwatch_log_group is not None or run.cloudwatch_enabled is not None else None})}


def task_parameters_out(spec: TaskSpec) -> dict[str, Any] | None:
    return {k: {"Values": list(v)} for k, v in spec.task_parameters.items()} or None


def task_out(spec: TaskSpec) -> dict[str, Any]:
    """The members a registered task shows (Get/Update/DescribeMaintenanceWindowTask(s)), but its type's."""
    logging = without_nones({"S3BucketName": spec.logging_bucket, "S3KeyPrefix": spec.logging_prefix,
                             "S3Region": spec.logging_region})
    return without_nones({
        "Targets": targets_out(spec.targets), "TaskArn": spec.task_arn, "ServiceRoleArn": spec.service_role_arn,
        "TaskParameters": task_parameters_out(spec), "TaskInvocationParameters": run_command_out(spec.run_command),
        "Priority": spec.priority, "MaxConcurrency": spec.max_concurrency, "MaxErrors": spec.max_errors,
        "LoggingInfo": logging or None, "Name": spec.name, "Description": spec.description,
        "CutoffBehavior": spec.cutoff_behavior})
