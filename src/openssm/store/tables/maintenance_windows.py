"""Tables: maintenance windows, their targets, tasks and executions (with each execution's tasks and each
task's invocations, one Run Command command apiece)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKeyConstraint, Index, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

windows = Table(
    "ssm_maintenance_windows",
    metadata,
    Column("window_id", String(20), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("spec", Text, nullable=False),  # JSON: everything Create/UpdateMaintenanceWindow set
    Column("client_token", String(64)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The next occurrence; the pass that starts it moves it on with a conditional update (restart-safe).
    Column("next_run_at", UtcDateTime()),
    Index("ix_ssm_maintenance_windows_account_region", "account_id", "region", "created_at"),
    Index("ix_ssm_maintenance_windows_next_run_at", "next_run_at"),
)


def _to_window() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["window_id"], ["ssm_maintenance_windows.window_id"], ondelete="CASCADE")


window_targets = Table(
    "ssm_maintenance_window_targets",
    metadata,
    Column("window_target_id", String(36), primary_key=True),
    Column("window_id", String(20), nullable=False),
    Column("spec", Text, nullable=False),  # JSON: ResourceType, Targets, OwnerInformation, Name, Description
    Column("client_token", String(64)),
    Column("created_at", UtcDateTime(), nullable=False),
    _to_window(),
    Index("ix_ssm_maintenance_window_targets_window", "window_id", "created_at"),
)

window_tasks = Table(
    "ssm_maintenance_window_tasks",
    metadata,
    Column("window_task_id", String(36), primary_key=True),
    Column("window_id", String(20), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("spec", Text, nullable=False),  # JSON: everything RegisterTask/UpdateMaintenanceWindowTask set
    Column("client_token", String(64)),
    Column("created_at", UtcDateTime(), nullable=False),
    _to_window(),
    Index("ix_ssm_maintenance_window_tasks_window", "window_id", "priority"),
)

window_executions = Table(
    "ssm_maintenance_window_executions",
    metadata,
    Column("window_execution_id", String(36), primary_key=True),
    Column("window_id", String(20), nullable=False),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("status", String(24), nullable=False),
    Column("status_details", String(250), nullable=False),
    Column("scheduled_at", UtcDateTime(), nullable=False),  # the occurrence it runs for
    Column("start_time", UtcDateTime(), nullable=False),
    Column("end_time", UtcDateTime()),
    Column("cutoff_at", UtcDateTime(), nullable=False),  # no task starts from then
    Column("ends_at", UtcDateTime(), nullable=False),  # the window's end
    _to_window(),
    Index("ix_ssm_maintenance_window_executions_window", "window_id", "start_time"),
    # The scheduler reads every open execution each pass.
    Index("ix_ssm_maintenance_window_executions_status", "status"),
)

execution_tasks = Table(
    "ssm_maintenance_window_execution_tasks",
    metadata,
    Column("task_execution_id", String(36), primary_key=True),
    Column("window_execution_id", String(36), nullable=False),
    Column("window_task_id", String(36), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("spec", Text, nullable=False),  # the task as registered when the execution started
    Column("status", String(24), nullable=False),
    Column("status_details", String(250), nullable=False),
    Column("start_time", UtcDateTime()),
    Column("end_time", UtcDateTime()),
    ForeignKeyConstraint(["window_execution_id"], ["ssm_maintenance_window_executions.window_execution_id"],
                         ondelete="CASCADE"),
    Index("ix_ssm_maintenance_window_execution_tasks_execution", "window_execution_id", "priority"),
)

task_invocations = Table(
    "ssm_maintenance_window_task_invocations",
    metadata,
    Column("invocation_id", String(36), primary_key=True),
    Column("task_execution_id", String(36), nullable=False),
    Column("window_execution_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),  # the order invocations start in
    Column("instance_id", String(20), nullable=False),
    Column("window_target_id", String(36)),
    Column("owner_information", String(128)),
    Column("command_id", String(36)),  # ExecutionId: the Run Command command that runs it
    Column("parameters", Text, nullable=False),
    Column("status", String(24), nullable=False),
    Column("status_details", String(250), nullable=False),
    Column("start_time", UtcDateTime()),
    Column("end_time", UtcDateTime()),
    ForeignKeyConstraint(["task_execution_id"], ["ssm_maintenance_window_execution_tasks.task_execution_id"],
                         ondelete="CASCADE"),
    Index("ix_ssm_maintenance_window_task_invocations_task", "task_execution_id", "seq"),
)
