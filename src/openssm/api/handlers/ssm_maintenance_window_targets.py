"""A maintenance window's targets and tasks over JSON 1.1: Register/Update/DeregisterTarget(s), DescribeMaintenance
WindowTargets, RegisterTaskWithMaintenanceWindow, Update/Get/DeregisterTask, DescribeMaintenanceWindowTasks."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import SSM_PRINCIPAL, facts, paginate, without_nones
from openssm.api.handlers.ssm_maintenance_window_common import (
    PAGE,
    filters_from,
    target_resources,
    target_spec_from,
    targets_out,
    task_out,
    task_resources,
    task_spec_from,
    unsupported_invocation_parameters,
    window_resource,
)
from openssm.api.operations import Operation, Params
from openssm.errors import ValidationError
from openssm.services import maintenance_windows_targets as targets
from openssm.services import maintenance_windows_tasks as tasks
from openssm.services.maintenance_windows_model import FeatureNotAvailable, TaskSpec, WindowTarget


def register_target_with_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        target_id = targets.register(conn, ctx.account_id, ctx.region, p["WindowId"], target_spec_from(p),
                                     p.get("ClientToken"), ctx.now)
    return {"WindowTargetId": target_id}


def _target_out(t: WindowTarget) -> dict[str, Any]:
    return without_nones({"WindowId": t.window_id, "WindowTargetId": t.window_target_id,
                          "ResourceType": t.spec.resource_type, "Targets": targets_out(t.spec.targets),
                          "OwnerInformation": t.spec.owner_information, "Name": t.spec.name,
                          "Description": t.spec.description})


def update_maintenance_window_target(ctx: RequestContext, p: Params) -> dict[str, Any]:
    """The members given replace the current ones; with Replace, Targets is required and those left out reset."""
    with ctx.container.db.begin() as conn:
        current = targets.get(conn, ctx.account_id, ctx.region, p["WindowId"], p["WindowTargetId"]).spec
        if p.get("Replace"):
            if not p.get("Targets"):
                raise ValidationError("When Replace is true, Targets must be specified.")
            merged = {"ResourceType": current.resource_type, **p}
        else:
            merged = {"ResourceType": current.resource_type, "Targets": targets_out(current.targets),
                      "OwnerInformation": current.owner_information, "Name": current.name,
                      "Description": current.description, **{k: v for k, v in p.items() if v is not None}}
        updated = targets.update(conn, ctx.account_id, ctx.region, p["WindowId"], p["WindowTargetId"],
                                 target_spec_from(merged))
    out = _target_out(updated)
    del out["ResourceType"]
    return out


def deregister_target_from_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        targets.deregister(conn, ctx.account_id, ctx.region, p["WindowId"], p["WindowTargetId"], bool(p.get("Safe")))
    return {"WindowId": p["WindowId"], "WindowTargetId": p["WindowTargetId"]}


def describe_maintenance_window_targets(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = targets.describe(conn, ctx.account_id, ctx.region, p["WindowId"], filters_from(p))
    page, token = paginate(p, found, PAGE)
    return without_nones({"Targets": [_target_out(t) for t in page], "NextToken": token})


def _checked_task(ctx: RequestContext, p: Params) -> TaskSpec:
    """Refusals that need the request itself: other invocation parameters than RunCommand, and the service
    roles the caller passes (iam:PassRole, as AWS checks it; OpenSSM records them and runs the task itself)."""
    other = unsupported_invocation_parameters(p)
    if other is not None and p.get("TaskType") == "RUN_COMMAND":
        raise ValidationError(f"TaskInvocationParameters.{other} does not apply to a RUN_COMMAND task; use RunCommand.")
    spec = task_spec_from(p)
    if spec.task_type != "RUN_COMMAND":
        raise FeatureNotAvailable(f"Task type {spec.task_type} is not available: OpenSSM runs RUN_COMMAND "
                                  "maintenance window tasks only.")
    for role in {spec.service_role_arn, spec.run_command.service_role_arn if spec.run_command else None} - {None}:
        ctx.container.authorizer.authorize_pass_role(facts(ctx), str(role), SSM_PRINCIPAL)
    return spec


def register_task_with_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    spec = _checked_task(ctx, p)
    with ctx.container.db.begin() as conn:
        task_id = tasks.register(conn, ctx.account_id, ctx.region, p["WindowId"], spec, p.get("ClientToken"),
                                 ctx.now)
    return {"WindowTaskId": task_id}


def _task_get_out(window_id: str, task_id: str, spec: TaskSpec) -> dict[str, Any]:
    return {"WindowId": window_id, "WindowTaskId": task_id, "TaskType": spec.task_type, **task_out(spec)}


def get_maintenance_window_task(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        task = tasks.get(conn, ctx.account_id, ctx.region, p["WindowId"], p["WindowTaskId"])
    return _task_get_out(task.window_id, task.window_task_id, task.spec)


_TASK_MEMBERS = ("Targets", "TaskArn", "ServiceRoleArn", "TaskParameters", "TaskInvocationParameters", "Priority",
                 "MaxConcurrency", "MaxErrors", "LoggingInfo", "Name", "Description", "CutoffBehavior")


def update_maintenance_window_task(ctx: RequestContext, p: Params) -> dict[str, Any]:
    """The members given replace the current ones; with Replace, those left out are reset (TaskArn, Targets,
    MaxConcurrency and MaxErrors stay required for a RUN_COMMAND task)."""
    with ctx.container.db.begin() as conn:
        current = tasks.get(conn, ctx.account_id, ctx.region, p["WindowId"], p["WindowTaskId"]).spec
        kept = {"TaskType": current.task_type, "TaskArn": current.task_arn}
        if not p.get("Replace"):
            kept.update({k: v for k, v in task_out(current).items() if k in _TASK_MEMBERS})
        given = {k: v for k, v in p.items() if k in _TASK_MEMBERS and v is not None}
        spec = _checked_task(ctx, {**kept, **given})
        tasks.update(conn, ctx.account_id, ctx.region, p["WindowId"], p["WindowTaskId"], spec)
    out = _task_get_out(p["WindowId"], p["WindowTaskId"], spec)
    del out["TaskType"]
    return out


def deregister_task_from_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        tasks.deregister(conn, ctx.account_id, ctx.region, p["WindowId"], p["WindowTaskId"])
    return {"WindowId": p["WindowId"], "WindowTaskId": p["WindowTaskId"]}


def describe_maintenance_window_tasks(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = tasks.describe(conn, ctx.account_id, ctx.region, p["WindowId"], filters_from(p))
    page, token = paginate(p, found, PAGE)
    return without_nones({"Tasks": [{"WindowId": t.window_id, "WindowTaskId": t.window_task_id,
                                     "Type": t.spec.task_type, **task_out(t.spec)} for t in page],
                          "NextToken": token})


OPERATIONS = [
    Operation("ssm", "RegisterTargetWithMaintenanceWindow", register_target_with_maintenance_window,
              resources=window_resource),
    Operation("ssm", "UpdateMaintenanceWindowTarget", update_maintenance_window_target, resources=target_resources),
    Operation("ssm", "DeregisterTargetFromMaintenanceWindow", deregister_target_from_maintenance_window,
              resources=target_resources),
    Operation("ssm", "DescribeMaintenanceWindowTargets", describe_maintenance_window_targets,
              resources=window_resource, read_only=True),
    Operation("ssm", "RegisterTaskWithMaintenanceWindow", register_task_with_maintenance_window,
              resources=window_resource),
    Operation("ssm", "UpdateMaintenanceWindowTask", update_maintenance_window_task, resources=task_resources),
    Operation("ssm", "GetMaintenanceWindowTask", get_maintenance_window_task, resources=task_resources,
              read_only=True),
    Operation("ssm", "DeregisterTaskFromMaintenanceWindow", deregister_task_from_maintenance_window,
              resources=task_resources),
    Operation("ssm", "DescribeMaintenanceWindowTasks", describe_maintenance_window_tasks, resources=window_resource,
              read_only=True),
]
