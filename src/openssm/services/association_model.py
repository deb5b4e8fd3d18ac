"""State Manager's vocabulary: an association's settings (one per version), what the API shows of an
association, its executions and their targets, a node's status per association, and AWS's errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from openssm.errors import AwsError

MAX_ASSOCIATIONS = 2000  # active associations per account and region (AssociationLimitExceeded)
MAX_VERSIONS = 1000  # per association (AssociationVersionLimitExceeded)
DEFAULT_DOCUMENT_VERSION = "$DEFAULT"


class AssociationDoesNotExist(AwsError):
    code = "AssociationDoesNotExist"

    def __init__(self, message: str = "The specified association doesn't exist.") -> None:
        super().__init__(message)


class AssociationAlreadyExists(AwsError):
    code = "AssociationAlreadyExists"


class AssociationLimitExceeded(AwsError):
    code = "AssociationLimitExceeded"


class AssociationVersionLimitExceeded(AwsError):
    code = "AssociationVersionLimitExceeded"


class InvalidAssociationVersion(AwsError):
    code = "InvalidAssociationVersion"


class InvalidAssociation(AwsError):
    code = "InvalidAssociation"


class AssociationExecutionDoesNotExist(AwsError):
    code = "AssociationExecutionDoesNotExist"


class InvalidSchedule(AwsError):
    code = "InvalidSchedule"


class InvalidTarget(AwsError):
    code = "InvalidTarget"


class InvalidOutputLocation(AwsError):
    code = "InvalidOutputLocation"


class InvalidUpdate(AwsError):
    code = "InvalidUpdate"


@dataclass(frozen=True)
class Target:
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class OutputLocation:
    bucket: str
    prefix: str = ""
    region: str | None = None


@dataclass(frozen=True)
class AssociationSpec:
    """What CreateAssociation or UpdateAssociation set: one association version."""

    name: str  # the document, by name or ARN, as the caller gave it
    document_version: str = DEFAULT_DOCUMENT_VERSION
    instance_id: str | None = None  # a legacy association's one node
    targets: tuple[Target, ...] = ()
    parameters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    schedule_expression: str | None = None
    schedule_offset: int | None = None
    apply_only_at_cron_interval: bool = False
    output_location: OutputLocation | None = None
    association_name: str | None = None
    max_concurrency: str | None = None
    max_errors: str | None = None
    compliance_severity: str = "UNSPECIFIED"
    sync_compliance: str = "AUTO"
    automation_target_parameter_name: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> AssociationSpec:
        raw: dict[str, Any] = json.loads(text)
        location = raw.pop("output_location")
        return AssociationSpec(**{
            **raw, "targets": tuple(Target(t["key"], tuple(t["values"])) for t in raw["targets"]),
            "parameters": {k: tuple(v) for k, v in raw["parameters"].items()},
            "output_location": OutputLocation(**location) if location else None})


@dataclass(frozen=True)
class Overview:
    """DescribeAssociation's Overview: the association's status across its nodes."""

    status: str
    detailed_status: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Association:
    association_id: str
    account_id: str
    region: str
    version: int
    spec: AssociationSpec
    created_at: dt.datetime
    updated_at: dt.datetime
    last_execution_at: dt.datetime | None
    last_successful_at: dt.datetime | None
    overview: Overview

    @property
    def arn(self) -> str:
        return association_arn(self.region, self.account_id, self.association_id)


@dataclass(frozen=True)
class AssociationVersion:
    association_id: str
    version: int
    created_at: dt.datetime
    spec: AssociationSpec


@dataclass(frozen=True)
class Execution:
    association_id: str
    association_version: int
    execution_id: str
    status: str
    detailed_status: str
    created_at: dt.datetime
    last_execution_at: dt.datetime | None
    counts: Mapping[str, int]  # targets by status

    @property
    def resource_count_by_status(self) -> str:
        """AWS's rendering, a Java map: `{Failed=1, Success=2}`."""
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) + "}"


@dataclass(frozen=True)
class ExecutionTarget:
    association_id: str
    association_version: int
    execution_id: str
    resource_id: str
    resource_type: str
    status: str
    detailed_status: str
    last_execution_at: dt.datetime | None
    command_id: str | None


@dataclass(frozen=True)
class InstanceStatus:
    """DescribeInstanceAssociationsStatus: a node's latest status for one association."""

    association_id: str
    name: str
    association_name: str | None
    association_version: int
    document_version: str
    instance_id: str
    execution_date: dt.datetime | None
    status: str
    detailed_status: str
    execution_summary: str
    error_code: str
    output_url: str | None


def association_arn(region: str, account_id: str, association_id: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:association/{association_id}"
