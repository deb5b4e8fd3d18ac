"""Maintenance Windows' vocabulary: a window's, a target's and a task's settings (stored as JSON), what the
API shows of executions, their tasks and invocations, AWS's statuses, limits and errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from openssm.errors import AwsError
from openssm.services.association_model import Target as Target  # the same Key/Values pair as State Manager's
from openssm.services.sessions import DoesNotExist

__all__ = ["DoesNotExist"]

# AWS's quotas (Service Quotas, Systems Manager): windows per account and region, targets and tasks per window.
MAX_WINDOWS = 50
MAX_TARGETS = 100
MAX_TASKS = 20
RUN_COMMAND = "RUN_COMMAND"
TASK_TYPES = ("RUN_COMMAND", "AUTOMATION", "STEP_FUNCTIONS", "LAMBDA")

PENDING, IN_PROGRESS, SUCCESS, FAILED = "PENDING", "IN_PROGRESS", "SUCCESS", "FAILED"
TIMED_OUT, CANCELLING, CANCELLED, SKIPPED = "TIMED_OUT", "CANCELLING", "CANCELLED", "SKIPPED_OVERLAPPING"
FINAL = frozenset({SUCCESS, FAILED, TIMED_OUT, CANCELLED, SKIPPED})
OPEN = frozenset({PENDING, IN_PROGRESS, CANCELLING})


class IdempotentParameterMismatch(AwsError):
    code = "IdempotentParameterMismatch"


class ResourceLimitExceeded(AwsError):
    code = "ResourceLimitExceededException"


class FeatureNotAvailable(AwsError):
    code = "FeatureNotAvailableException"


class TargetInUse(AwsError):
    code = "TargetInUseException"


@dataclass(frozen=True)
class WindowSpec:
    """CreateMaintenanceWindow's members (and UpdateMaintenanceWindow's, merged)."""

    name: str
    schedule: str
    duration: int
    cutoff: int
    allow_unassociated_targets: bool
    description: str | None = None
    start_date: str | None = None  # ISO-8601, as the caller wrote it (AWS answers it back unchanged)
    end_date: str | None = None
    schedule_timezone: str | None = None
    schedule_offset: int | None = None
    enabled: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WindowSpec:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Window:
    window_id: str
    spec: WindowSpec
    created_at: dt.datetime
    updated_at: dt.datetime
    next_run_at: dt.datetime | None


@dataclass(frozen=True)
class TargetSpec:
    resource_type: str
    targets: tuple[Target, ...]
    owner_information: str | None = None
    name: str | None = None
    description: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TargetSpec:
        raw = json.loads(text)
        return cls(**{**raw, "targets": _targets(raw["targets"])})


@dataclass(frozen=True)
class WindowTarget:
    window_id: str
    window_target_id: str
    spec: TargetSpec


@dataclass(frozen=True)
class Notification:
    arn: str | None = None
    events: tuple[str, ...] = ()
    type: str | None = None


@dataclass(frozen=True)
class RunCommand:
    """TaskInvocationParameters.RunCommand; ServiceRoleArn, NotificationConfig and CloudWatchOutputConfig are
    recorded and shown, not acted on (the window's commands are sent by the service itself)."""

    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    document_version: str | None = None
    document_hash: str | None = None
    document_hash_type: str | None = None
    timeout_seconds: int | None = None
    comment: str | None = None
    output_s3_bucket: str | None = None
    output_s3_prefix: str | None = None
    service_role_arn: str | None = None
    notification: Notification | None = None
    cloudwatch_log_group: str | None = None
    cloudwatch_enabled: bool | None = None


@dataclass(frozen=True)
class TaskSpec:
    task_arn: str
    task_type: str
    targets: tuple[Target, ...] = ()
    priority: int = 1
    max_concurrency: str | None = None
    max_errors: str | None = None
    service_role_arn: str | None = None
    task_parameters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # the legacy TaskParameters
    run_command: RunCommand | None = None
    logging_bucket: str | None = None
    logging_prefix: str | None = None
    logging_region: str | None = None
    name: str | None = None
    description: str | None = None
    cutoff_behavior: str = "CONTINUE_TASK"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TaskSpec:
        raw = json.loads(text)
        run = raw.get("run_command")
        if run is not None:
            note = run.get("notification")
            run = RunCommand(**{**run, "parameters": _values(run["parameters"]),
                                "notification": Notification(note["arn"], tuple(note["events"]), note["type"])
                                if note else None})
        return cls(**{**raw, "targets": _targets(raw["targets"]), "task_parameters": _values(raw["task_parameters"]),
                      "run_command": run})


def _targets(raw: Any) -> tuple[Target, ...]:
    return tuple(Target(t["key"], tuple(t["values"])) for t in raw)


def _values(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in raw.items()}


@dataclass(frozen=True)
class WindowTask:
    window_id: str
    window_task_id: str
    spec: TaskSpec


@dataclass(frozen=True)
class Execution:
    window_id: str
    window_execution_id: str
    status: str
    status_details: str
    start_time: dt.datetime
    end_time: dt.datetime | None
    task_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExecutionTask:
    window_execution_id: str
    task_execution_id: str
    spec: TaskSpec
    status: str
    status_details: str
    start_time: dt.datetime | None
    end_time: dt.datetime | None


@dataclass(frozen=True)
class TaskInvocation:
    window_execution_id: str
    task_execution_id: str
    invocation_id: str
    execution_id: str | None  # the command's id
    task_type: str
    parameters: str
    status: str
    status_details: str
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    owner_information: str | None
    window_target_id: str | None


def window_arn(region: str, account_id: str, window_id: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:maintenancewindow/{window_id}"
