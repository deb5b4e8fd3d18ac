"""A maintenance window's executions over JSON 1.1: DescribeMaintenanceWindowExecutions,
GetMaintenanceWindowExecution, DescribeMaintenanceWindowExecutionTasks, GetMaintenanceWindowExecutionTask,
DescribeMaintenanceWindowExecutionTaskInvocations, GetMaintenanceWindowExecutionTaskInvocation and
CancelMaintenanceWindowExecution (authorized on the window's ARN)."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import paginate, without_nones
from openssm.api.handlers.ssm_maintenance_window_common import (
    PAGE,
    execution_resources,
    filters_from,
    task_parameters_out,
    window_resource,
)
from openssm.api.operations import Operation, Params
from openssm.services import maintenance_windows_executions as executions
from openssm.services.maintenance_windows_model import Execution, ExecutionTask, TaskInvocation


def _execution_out(e: Execution) -> dict[str, Any]:
    return without_nones({"WindowId": e.window_id, "WindowExecutionId": e.window_execution_id, "Status": e.status,
                          "StatusDetails": e.status_details, "StartTime": e.start_time, "EndTime": e.end_time})


def describe_maintenance_window_executions(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = executions.executions(conn, ctx.account_id, ctx.region, p["WindowId"], filters_from(p))
    page, token = paginate(p, found, PAGE)
    return without_nones({"WindowExecutions": [_execution_out(e) for e in page], "NextToken": token})


def get_maintenance_window_execution(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        e = executions.get(conn, ctx.account_id, ctx.region, p["WindowExecutionId"])
    out = _execution_out(e)
    del out["WindowId"]
    return {**out, "TaskIds": list(e.task_ids)}


def _task_identity(t: ExecutionTask) -> dict[str, Any]:
    return without_nones({"WindowExecutionId": t.window_execution_id, "TaskExecutionId": t.task_execution_id,
                          "Status": t.status, "StatusDetails": t.status_details, "StartTime": t.start_time,
                          "EndTime": t.end_time, "TaskArn": t.spec.task_arn, "TaskType": t.spec.task_type})


def describe_maintenance_window_execution_tasks(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = executions.tasks(conn, ctx.account_id, ctx.region, p["WindowExecutionId"], filters_from(p))
    page, token = paginate(p, found, PAGE)
    return without_nones({"WindowExecutionTaskIdentities": [_task_identity(t) for t in page], "NextToken": token})


def get_maintenance_window_execution_task(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        t = executions.task(conn, ctx.account_id, ctx.region, p["WindowExecutionId"], p["TaskId"])
    identity = _task_identity(t)
    spec = t.spec
    parameters = task_parameters_out(spec)
    if spec.run_command is not None and spec.run_command.parameters:
        parameters = {k: {"Values": list(v)} for k, v in spec.run_command.parameters.items()}
    return without_nones({**{k: v for k, v in identity.items() if k != "TaskType"}, "Type": spec.task_type,
                          "ServiceRole": spec.service_role_arn, "TaskParameters": [parameters] if parameters else None,
                          "Priority": spec.priority, "MaxConcurrency": spec.max_concurrency,
                          "MaxErrors": spec.max_errors})


def _invocation_out(i: TaskInvocation) -> dict[str, Any]:
    return without_nones({
        "WindowExecutionId": i.window_execution_id, "TaskExecutionId": i.task_execution_id,
        "InvocationId": i.invocation_id, "ExecutionId": i.execution_id, "TaskType": i.task_type,
        "Parameters": i.parameters, "Status": i.status, "StatusDetails": i.status_details, "StartTime": i.start_time,
        "EndTime": i.end_time, "OwnerInformation": i.owner_information, "WindowTargetId": i.window_target_id})


def describe_maintenance_window_execution_task_invocations(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = executions.invocations(conn, ctx.account_id, ctx.region, p["WindowExecutionId"], p["TaskId"],
                                       filters_from(p))
    page, token = paginate(p, found, PAGE)
    return without_nones({"WindowExecutionTaskInvocationIdentities": [_invocation_out(i) for i in page],
                          "NextToken": token})


def get_maintenance_window_execution_task_invocation(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        i = executions.invocation(conn, ctx.account_id, ctx.region, p["WindowExecutionId"], p["TaskId"],
                                  p["InvocationId"])
    return _invocation_out(i)


def cancel_maintenance_window_execution(ctx: RequestContext, p: Params) -> dict[str, Any]:
    """The execution is stopped by the scheduler's next pass (within seconds): CANCELLING, then CANCELLED."""
    with ctx.container.db.begin() as conn:
        executions.cancel(conn, ctx.account_id, ctx.region, p["WindowExecutionId"])
    return {"WindowExecutionId": p["WindowExecutionId"]}


OPERATIONS = [
    Operation("ssm", "DescribeMaintenanceWindowExecutions", describe_maintenance_window_executions,
              resources=window_resource, read_only=True),
    Operation("ssm", "GetMaintenanceWindowExecution", get_maintenance_window_execution,
              resources=execution_resources, read_only=True),
    Operation("ssm", "DescribeMaintenanceWindowExecutionTasks", describe_maintenance_window_execution_tasks,
              resources=execution_resources, read_only=True),
    Operation("ssm", "GetMaintenanceWindowExecutionTask", get_maintenance_window_execution_task,
              resources=execution_resources, read_only=True),
    Operation("ssm", "DescribeMaintenanceWindowExecutionTaskInvocations",
              describe_maintenance_window_execution_task_invocations, resources=execution_resources, read_only=True),
    Operation("ssm", "GetMaintenanceWindowExecutionTaskInvocation", get_maintenance_window_execution_task_invocation,
              resources=execution_resources, read_only=True),
    Operation("ssm", "CancelMaintenanceWindowExecution", cancel_maintenance_window_execution,
              resources=execution_resources),
]
