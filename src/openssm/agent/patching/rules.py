"""A baseline applied to a node's packages, giving each installed package AWS's patch state (user guide,
"Understanding patch compliance state values"):

- Missing: an update the baseline approves is available and not installed (Failed: Install tried it and it did
  not install). Candidates are the available versions newer than the installed one, the highest approved one
  chosen; when neither the approving rule's EnableNonSecurity (or ApprovedPatchesEnableNonSecurity for the
  approved list) is set, only security updates are candidates (Debian and Ubuntu: from a `-security` suite).
- Installed: the installed version is approved (by the approved list, or by the global filters and a rule).
- InstalledRejected: the installed version is on the rejected list and RejectedPatchesAction is BLOCK; with
  ALLOW_AS_DEPENDENCY it is InstalledOther, as AWS reports it.
- InstalledOther: installed, not approved.
- InstalledPendingReboot: installed by an Install operation that left the node needing a reboot.
NotApplicable is reported only for Windows Server at AWS; the Linux engine never gives it.

A patch approved several ways takes the most severe ComplianceLevel among them. Rules' ApproveAfterDays and
ApproveUntilDate need a release date; Debian and Ubuntu have none (AWS: "Not supported for Debian Server or
Ubuntu Server"), so there they do not hold a patch back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from openssm.agent.patching import names
from openssm.agent.patching.model import (
    BLOCK,
    SEVERITIES,
    ApprovalRule,
    Baseline,
    Package,
    PatchFilter,
    PatchRecord,
    PatchState,
    Scan,
)

Key = tuple[str, str]


@dataclass(frozen=True)
class Context:
    product: str
    now: dt.datetime
    debian: bool
    pending_reboot: frozenset[Key] = frozenset()  # installed by Patch Manager, the node not rebooted since
    failed: frozenset[Key] = frozenset()  # Install tried these and they did not install


def _attribute(key: str, package: Package, product: str) -> tuple[str, ...]:
    """The values of a package a filter key tests (none for a key this OS does not have)."""
    section = package.section
    return {
        "PRODUCT": (product,),
        "SECTION": (section, section.rpartition("/")[2]) if section else ("",),
        "PRIORITY": (package.priority,),
        "CLASSIFICATION": (package.classification,),
        "SEVERITY": (package.severity,),
        "NAME": (package.name,),
        "ARCH": (package.arch,),
        "REPOSITORY": (package.repository,),
        "VERSION": (package.version,),
        "RELEASE": (package.release,),
        "EPOCH": (package.epoch,),
    }.get(key.upper(), ())


def filter_matches(patch_filter: PatchFilter, package: Package, product: str) -> bool:
    """A filter holds when one of its values (`*` wildcards allowed, case ignored) matches the attribute."""
    values = _attribute(patch_filter.key, package, product)
    return any(fnmatchcase(have.lower(), want.lower()) for have in values for want in patch_filter.values)


def _dates_allow(rule: ApprovalRule, package: Package, now: dt.datetime) -> bool:
    released = package.release_date
    if released is None:
        return True
    if rule.approve_after_days is not None and released + dt.timedelta(days=rule.approve_after_days) > now:
        return False
    return rule.approve_until_date is None or released.date() <= rule.approve_until_date


def most_severe(levels: Sequence[str]) -> str | None:
    known = [level for level in levels if level in SEVERITIES]
    return min(known, key=SEVERITIES.index) if known else (levels[0] if levels else None)


def approval(baseline: Baseline, package: Package, ctx: Context, candidate: bool) -> str | None:
    """The ComplianceLevel under which the baseline approves the package version, or None. A candidate (an
    update not yet installed) must be a security update unless the approval enables non-security ones."""
    levels = []
    if names.matches(baseline.approved_patches, package, ctx.debian) and (
            not candidate or package.security or baseline.approved_enable_non_security):
        levels.append(baseline.approved_compliance_level)
    if all(filter_matches(f, package, ctx.product) for f in baseline.global_filters):
        for rule in baseline.rules:
            if candidate and not (package.security or rule.enable_non_security):
                continue
            if all(filter_matches(f, package, ctx.product) for f in rule.filters) and \
                    _dates_allow(rule, package, ctx.now):
                levels.append(rule.compliance_level)
    return most_severe(levels)


def rejected(baseline: Baseline, package: Package, ctx: Context) -> bool:
    return names.matches(baseline.rejected_patches, package, ctx.debian)


def classify_one(baseline: Baseline, installed: Package, updates: Sequence[Package], ctx: Context) -> PatchRecord:
    """The record of one installed package, given its newer available versions (highest first)."""
    for update in updates:
        if rejected(baseline, update, ctx):
            continue  # a rejected version is never installed as a patch, whatever the action
        level = approval(baseline, update, ctx, candidate=True)
        if level is not None:
            state = PatchState.FAILED if installed.key in ctx.failed else PatchState.MISSING
            return PatchRecord(update, state, level)
    if rejected(baseline, installed, ctx):
        state = PatchState.INSTALLED_REJECTED if baseline.rejected_action == BLOCK else PatchState.INSTALLED_OTHER
        return PatchRecord(installed, state)
    level = approval(baseline, installed, ctx, candidate=False)
    state = PatchState.INSTALLED if level is not None else PatchState.INSTALLED_OTHER
    if installed.key in ctx.pending_reboot:
        state = PatchState.INSTALLED_PENDING_REBOOT
    return PatchRecord(installed, state, level or "UNSPECIFIED")


@dataclass
class Engine:
    """Applies one baseline; `updates` maps an installed package's key to its newer versions."""

    baseline: Baseline
    ctx: Context
    extra: dict[str, str] = field(default_factory=dict)

    def scan(self, installed: Mapping[Key, Package], updates: Mapping[Key, Sequence[Package]]) -> Scan:
        records = tuple(classify_one(self.baseline, package, updates.get(key, ()), self.ctx)
                        for key, package in sorted(installed.items()))
        return Scan(records, dict(self.extra))
