"""A window's tasks: RegisterTaskWithMaintenanceWindow, UpdateMaintenanceWindowTask,
DeregisterTaskFromMaintenanceWindow, GetMaintenanceWindowTask, DescribeMaintenanceWindowTasks.

OpenSSM runs RUN_COMMAND tasks (a Command document through Run Command); AUTOMATION, STEP_FUNCTIONS and
LAMBDA tasks are refused with FeatureNotAvailableException, AWS's error for a task type a Region lacks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import maintenance_windows as windows_service
from openssm.services import maintenance_windows_rules as rules
from openssm.services.maintenance_windows_model import (
    MAX_TASKS,
    RUN_COMMAND,
    DoesNotExist,
    FeatureNotAvailable,
    TaskSpec,
    WindowTask,
)
from openssm.store.tables.maintenance_windows import window_targets, window_tasks

FILTER_KEYS = ("WindowTaskId", "TaskArn", "Priority", "TaskType")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check(conn: Connection, account_id: str, region: str, window_id: str, spec: TaskSpec) -> None:
    """Every rule RegisterTaskWithMaintenanceWindow and UpdateMaintenanceWindowTask apply."""
    window = windows_service.get(conn, account_id, region, window_id)
    if spec.task_type != RUN_COMMAND:
        raise FeatureNotAvailable(f"Task type {spec.task_type} is not available: OpenSSM runs RUN_COMMAND "
                                  "maintenance window tasks only (Automation, Step Functions and Lambda are not part "
                                  "of it).")
    rules.check_task_targets(spec.targets, window.spec.allow_unassociated_targets)
    if not spec.max_concurrency or not spec.max_errors:
        raise ValidationError("MaxConcurrency and MaxErrors must be specified for maintenance window Run "
                              "Command-type tasks.")
    if spec.task_parameters and spec.run_command is not None and spec.run_command.parameters:
        raise ValidationError("Specify the task's parameters either in TaskParameters or in "
                              "TaskInvocationParameters, not both.")
    for bucket in (spec.logging_bucket, spec.run_command.output_s3_bucket if spec.run_command else None):
        if bucket is not None and not _BUCKET.match(bucket):
            raise ValidationError(f"The S3 bucket name {bucket} is not valid.")
    (target,) = spec.targets
    if target.key == "WindowTargetIds":
        t = window_targets.c
        known = {r.window_target_id for r in conn.execute(sa.select(t.window_target_id).where(
            t.window_id == window_id))}
        missing = [v for v in target.values if v not in known]
        if missing:
            raise DoesNotExist(f"Maintenance window target {missing[0]} does not exist in maintenance window "
                               f"{window_id}")


def register(conn: Connection, account_id: str, region: str, window_id: str, spec: TaskSpec,
             client_token: str | None, now: dt.datetime) -> str:
    check(conn, account_id, region, window_id, spec)
    return windows_service.add_member(conn, window_tasks, window_id, spec.to_json(), client_token, MAX_TASKS,
                                      "task", {"priority": spec.priority, "created_at": now})


def get(conn: Connection, account_id: str, region: str, window_id: str, task_id: str) -> WindowTask:
    windows_service.row(conn, account_id, region, window_id)
    c = window_tasks.c
    found = conn.execute(sa.select(window_tasks).where(c.window_id == window_id, c.window_task_id == task_id)).first()
    if found is None:
        raise DoesNotExist(f"Maintenance window task {task_id} does not exist in maintenance window {window_id}")
    return WindowTask(window_id, task_id, TaskSpec.from_json(found.spec))


def update(conn: Connection, account_id: str, region: str, window_id: str, task_id: str,
           spec: TaskSpec) -> WindowTask:
    get(conn, account_id, region, window_id, task_id)
    check(conn, account_id, region, window_id, spec)
    conn.execute(sa.update(window_tasks).where(window_tasks.c.window_task_id == task_id)
                 .values(spec=spec.to_json(), priority=spec.priority))
    return WindowTask(window_id, task_id, spec)


def deregister(conn: Connection, account_id: str, region: str, window_id: str, task_id: str) -> None:
    get(conn, account_id, region, window_id, task_id)
    conn.execute(sa.delete(window_tasks).where(window_tasks.c.window_task_id == task_id))


def of_window(conn: Connection, window_id: str) -> list[WindowTask]:
    """The window's tasks by priority (lowest first), then registration."""
    c = window_tasks.c
    return [WindowTask(window_id, r.window_task_id, TaskSpec.from_json(r.spec)) for r in conn.execute(
        sa.select(window_tasks).where(c.window_id == window_id).order_by(c.priority, c.created_at, c.window_task_id))]


def describe(conn: Connection, account_id: str, region: str, window_id: str,
             filters: Sequence[tuple[str, Sequence[str]]]) -> list[WindowTask]:
    windows_service.row(conn, account_id, region, window_id)
    rules.check_filter_keys(filters, FILTER_KEYS)
    return [t for t in of_window(conn, window_id) if all(_field(t, k) in v for k, v in filters)]


def _field(task: WindowTask, key: str) -> str:
    return {"WindowTaskId": task.window_task_id, "TaskArn": task.spec.task_arn, "Priority": str(task.spec.priority),
            "TaskType": task.spec.task_type}[key]
