"""The patching vocabulary shared by the facts, the rules and the report: a package version as the package
manager describes it, the baseline as the snapshot carries it (GetPatchBaseline's fields), and AWS's patch
states."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")  # most severe first
BLOCK, ALLOW_AS_DEPENDENCY = "BLOCK", "ALLOW_AS_DEPENDENCY"


class PatchState(StrEnum):
    INSTALLED = "Installed"
    INSTALLED_OTHER = "InstalledOther"
    INSTALLED_PENDING_REBOOT = "InstalledPendingReboot"
    INSTALLED_REJECTED = "InstalledRejected"
    MISSING = "Missing"
    FAILED = "Failed"
    NOT_APPLICABLE = "NotApplicable"


NON_COMPLIANT = frozenset({PatchState.MISSING, PatchState.FAILED, PatchState.INSTALLED_PENDING_REBOOT,
                           PatchState.INSTALLED_REJECTED})


@dataclass(frozen=True)
class Package:
    """One version of a package, installed or available. Debian versions keep epoch and revision in
    `version` as dpkg spells them after the epoch (release stays empty); rpm's are split as rpm splits them."""

    name: str
    arch: str
    epoch: str
    version: str
    release: str = ""
    section: str = ""  # Debian
    priority: str = ""  # Debian
    classification: str = ""  # rpm: the advisory's type (Security, Bugfix…); Debian: Security from a security suite
    severity: str = ""  # rpm: the advisory's severity
    repository: str = ""
    security: bool = False
    release_date: dt.datetime | None = None
    installed_time: dt.datetime | None = None
    cve_ids: tuple[str, ...] = ()
    advisory_ids: tuple[str, ...] = ()
    bugzilla_ids: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.arch

    @property
    def evr(self) -> str:
        """What the package manager takes after `name=` (apt) or `name-` (dnf)."""
        base = f"{self.version}-{self.release}" if self.release else self.version
        return f"{self.epoch}:{base}" if self.epoch not in ("", "0") else base

    @property
    def title(self) -> str:
        """The compliance item's Title: name.arch:epoch:version-release (Debian: no -release)."""
        tail = f"-{self.release}" if self.release else ""
        return f"{self.name}.{self.arch}:{self.epoch or '0'}:{self.version}{tail}"


@dataclass(frozen=True)
class PatchFilter:
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ApprovalRule:
    filters: tuple[PatchFilter, ...]
    compliance_level: str = "UNSPECIFIED"
    approve_after_days: int | None = None
    approve_until_date: dt.date | None = None
    enable_non_security: bool = False


@dataclass(frozen=True)
class Baseline:
    baseline_id: str
    operating_system: str
    global_filters: tuple[PatchFilter, ...] = ()
    rules: tuple[ApprovalRule, ...] = ()
    approved_patches: tuple[str, ...] = ()
    approved_compliance_level: str = "UNSPECIFIED"
    approved_enable_non_security: bool = False
    rejected_patches: tuple[str, ...] = ()
    rejected_action: str = ALLOW_AS_DEPENDENCY
    name: str = ""


def _filters(group: Any) -> tuple[PatchFilter, ...]:
    raw = (group or {}).get("PatchFilters") or [] if isinstance(group, Mapping) else []
    return tuple(PatchFilter(str(f.get("Key", "")), tuple(str(v) for v in f.get("Values") or [])) for f in raw)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def baseline_from_json(data: Mapping[str, Any]) -> Baseline:
    """The baseline of a snapshot (GetPatchBaseline's response fields); ValueError when it cannot be read."""
    try:
        rules = tuple(ApprovalRule(_filters(rule.get("PatchFilterGroup")),
                                   str(rule.get("ComplianceLevel") or "UNSPECIFIED"),
                                   int(rule["ApproveAfterDays"]) if rule.get("ApproveAfterDays") is not None else None,
                                   _date(rule.get("ApproveUntilDate")), bool(rule.get("EnableNonSecurity")))
                      for rule in (data.get("ApprovalRules") or {}).get("PatchRules") or [])
        return Baseline(str(data.get("BaselineId") or ""), str(data.get("OperatingSystem") or "WINDOWS"),
                        _filters(data.get("GlobalFilters")), rules,
                        tuple(str(p) for p in data.get("ApprovedPatches") or []),
                        str(data.get("ApprovedPatchesComplianceLevel") or "UNSPECIFIED"),
                        bool(data.get("ApprovedPatchesEnableNonSecurity")),
                        tuple(str(p) for p in data.get("RejectedPatches") or []),
                        str(data.get("RejectedPatchesAction") or ALLOW_AS_DEPENDENCY), str(data.get("Name") or ""))
    except (AttributeError, TypeError, ValueError, KeyError) as err:
        raise ValueError(f"the patch baseline cannot be read: {err}") from err


@dataclass(frozen=True)
class PatchRecord:
    """A patch in one of AWS's states: `package` is the version the state is about (the available one for
    Missing and Failed, the installed one otherwise)."""

    package: Package
    state: PatchState
    severity: str = "UNSPECIFIED"  # the approving rule's ComplianceLevel

    @property
    def compliant(self) -> bool:
        return self.state not in NON_COMPLIANT


@dataclass(frozen=True)
class Scan:
    """What a scan found: each installed package's record, and the Missing ones' target versions."""

    records: tuple[PatchRecord, ...]
    extra: Mapping[str, str] = field(default_factory=dict)

    def missing(self) -> tuple[Package, ...]:
        return tuple(r.package for r in self.records if r.state == PatchState.MISSING)

    def count(self, state: PatchState) -> int:
        return sum(1 for r in self.records if r.state == state)
