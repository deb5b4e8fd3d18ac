"""Patch Manager's vocabulary: a patch baseline's settings (filters, approval rules, approved and rejected
patches, sources), the baseline as the API shows it, and AWS's errors for baselines and patch groups."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from openssm.errors import AwsError
from openssm.services.patch_platforms import OperatingSystem

MAX_BASELINES = 50  # custom patch baselines per account and Region (AWS's Service Quotas)
MAX_GROUPS_PER_BASELINE = 25  # patch groups per patch baseline
AWS_OWNER = "AWS"
SELF_OWNER = "Self"


class DoesNotExist(AwsError):
    code = "DoesNotExistException"


class ResourceInUse(AwsError):
    code = "ResourceInUseException"


class ResourceLimitExceeded(AwsError):
    code = "ResourceLimitExceededException"


class AlreadyExists(AwsError):
    code = "AlreadyExistsException"


class IdempotentParameterMismatch(AwsError):
    code = "IdempotentParameterMismatch"


@dataclass(frozen=True)
class PatchFilter:
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class PatchRule:
    filters: tuple[PatchFilter, ...]
    compliance_level: str = "UNSPECIFIED"
    approve_after_days: int | None = None
    approve_until_date: str | None = None  # YYYY-MM-DD, as AWS keeps it
    enable_non_security: bool = False


@dataclass(frozen=True)
class PatchSource:
    """An alternative repository for Linux nodes: yum/apt configuration for the products named."""

    name: str
    products: tuple[str, ...]
    configuration: str


@dataclass(frozen=True)
class BaselineSpec:
    """Everything CreatePatchBaseline / UpdatePatchBaseline set."""

    name: str
    operating_system: OperatingSystem = OperatingSystem.WINDOWS
    description: str | None = None
    global_filters: tuple[PatchFilter, ...] = ()
    approval_rules: tuple[PatchRule, ...] = ()
    approved_patches: tuple[str, ...] = ()
    approved_patches_compliance_level: str = "UNSPECIFIED"
    approved_patches_enable_non_security: bool = False
    rejected_patches: tuple[str, ...] = ()
    rejected_patches_action: str = "ALLOW_AS_DEPENDENCY"
    sources: tuple[PatchSource, ...] = ()
    available_security_updates_compliance_status: str | None = None  # Windows only

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BaselineSpec:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            name=raw["name"], operating_system=OperatingSystem(raw["operating_system"]),
            description=raw.get("description"),
            global_filters=_filters(raw.get("global_filters") or ()),
            approval_rules=tuple(PatchRule(
                _filters(r["filters"]), r["compliance_level"], r.get("approve_after_days"),
                r.get("approve_until_date"), bool(r.get("enable_non_security"))) for r in raw.get("approval_rules")
                or ()),
            approved_patches=tuple(raw.get("approved_patches") or ()),
            approved_patches_compliance_level=raw.get("approved_patches_compliance_level") or "UNSPECIFIED",
            approved_patches_enable_non_security=bool(raw.get("approved_patches_enable_non_security")),
            rejected_patches=tuple(raw.get("rejected_patches") or ()),
            rejected_patches_action=raw.get("rejected_patches_action") or "ALLOW_AS_DEPENDENCY",
            sources=tuple(PatchSource(s["name"], tuple(s["products"]), s["configuration"])
                          for s in raw.get("sources") or ()),
            available_security_updates_compliance_status=raw.get("available_security_updates_compliance_status"))


def _filters(raw: Any) -> tuple[PatchFilter, ...]:
    return tuple(PatchFilter(f["key"], tuple(f["values"])) for f in raw)


def arn_of(region: str, account_id: str, baseline_id: str) -> str:
    """A baseline's ARN: AWS's own baselines' ids are their ARNs already; a custom baseline's pb- id is not."""
    return baseline_id if baseline_id.startswith("arn:") else baseline_arn(region, account_id, baseline_id)


@dataclass(frozen=True)
class PatchBaseline:
    """A baseline as GetPatchBaseline shows it. AWS's own baselines have an ARN as their id and Owner AWS."""

    baseline_id: str
    account_id: str  # the owner: the caller's account, or AWS's baseline account for predefined ones
    region: str
    spec: BaselineSpec
    created_at: dt.datetime
    modified_at: dt.datetime
    owner: str = SELF_OWNER
    patch_groups: tuple[str, ...] = field(default=())

    @property
    def arn(self) -> str:
        return arn_of(self.region, self.account_id, self.baseline_id)

    @property
    def predefined(self) -> bool:
        return self.owner == AWS_OWNER


def baseline_arn(region: str, account_id: str, baseline_id: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:patchbaseline/{baseline_id}"


@dataclass(frozen=True)
class BaselineIdentity:
    """One row of DescribePatchBaselines / DescribePatchGroups."""

    baseline_id: str
    name: str
    operating_system: OperatingSystem
    description: str | None
    default: bool


@dataclass(frozen=True)
class InstanceBaseline:
    """The baseline that governs a node, the patch group it was chosen by ("" when none), the node's operating
    system (AWS's enum) and its PRODUCT value (Debian12, Ubuntu22.04, AmazonLinux2023…)."""

    baseline: PatchBaseline
    patch_group: str
    operating_system: str
    product: str
