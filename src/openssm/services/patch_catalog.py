"""What nodes reported about individual patches (DescribeInstancePatches, DescribeAvailablePatches), read from
their compliance items of type Patch (the patching contract: Id the package, Title name.arch:epoch:version-release,
Details with PatchState, Classification, PatchSeverity, InstalledTime, CVEIds and the catalogue facts).

AWS's DescribeAvailablePatches answers from AWS's own catalogue of vendors' patches; OpenSSM has none, so it
answers the distinct patches the account's nodes in the Region reported (a recorded departure).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import compliance
from openssm.services.compliance import ComplianceItem
from openssm.services.inventory_model import InvalidFilter
from openssm.services.patch_baseline_model import PatchFilter
from openssm.services.patch_states import EPOCH, parse_time

PATCH = "Patch"
# PatchState as the agent reports it -> PatchComplianceData.State.
STATES = {"Installed": "INSTALLED", "InstalledOther": "INSTALLED_OTHER",
          "InstalledPendingReboot": "INSTALLED_PENDING_REBOOT", "InstalledRejected": "INSTALLED_REJECTED",
          "Missing": "MISSING", "Failed": "FAILED", "NotApplicable": "NOT_APPLICABLE",
          "AvailableSecurityUpdate": "AVAILABLE_SECURITY_UPDATE"}
INSTANCE_PATCH_KEYS = ("Classification", "KBId", "Severity", "State")
# DescribeAvailablePatches' keys (the API reference: Windows, then Linux) with the Details attribute each reads;
# SECTION and PRIORITY are the Debian and Ubuntu properties (DescribePatchProperties).
_WINDOWS_KEYS = {"PATCH_SET": "PatchSet", "PRODUCT_FAMILY": "ProductFamily", "MSRC_SEVERITY": "MsrcSeverity",
                 "PATCH_ID": "KBId"}
_LINUX_KEYS = {"NAME": "Name", "SEVERITY": "PatchSeverity", "EPOCH": "Epoch", "VERSION": "Version",
               "RELEASE": "Release", "ARCH": "Arch", "REPOSITORY": "Repository", "ADVISORY_ID": "AdvisoryIds",
               "CVE_ID": "CVEIds", "BUGZILLA_ID": "BugzillaIds", "SECTION": "Section", "PRIORITY": "Priority"}
AVAILABLE_KEYS = {"PRODUCT": "Product", "CLASSIFICATION": "Classification", **_WINDOWS_KEYS, **_LINUX_KEYS}
_LISTS = frozenset({"AdvisoryIds", "CVEIds", "BugzillaIds"})  # comma-separated in Details


@dataclass(frozen=True)
class InstancePatch:
    """One row of DescribeInstancePatches."""

    title: str
    kb_id: str
    classification: str
    severity: str
    state: str
    installed_time: dt.datetime
    cve_ids: str | None


@dataclass(frozen=True)
class AvailablePatch:
    """One row of DescribeAvailablePatches: a package version some node reported, with its catalogue facts."""

    id: str
    title: str
    product: str | None
    name: str | None
    arch: str | None
    epoch: int | None
    version: str | None
    release: str | None
    classification: str | None
    severity: str | None
    repository: str | None
    release_date: dt.datetime | None
    cve_ids: tuple[str, ...]
    advisory_ids: tuple[str, ...]
    bugzilla_ids: tuple[str, ...]


def instance_patches(conn: Connection, account_id: str, region: str, instance_id: str,
                     filters: Sequence[PatchFilter]) -> list[InstancePatch]:
    """The node's patches as its last Patch compliance upload listed them, those every filter keeps."""
    for f in filters:
        if f.key not in INSTANCE_PATCH_KEYS:
            raise InvalidFilter(f"The filter key {f.key} is not valid. Valid filter keys: "
                                f"{', '.join(INSTANCE_PATCH_KEYS)}.")
        if not f.values:
            raise InvalidFilter(f"The filter {f.key} needs at least one value.")
    rows = [_instance_patch(i) for i in _patch_items(conn, account_id, region, [instance_id])]
    return [r for r in rows if all(_keeps(r, f) for f in filters)]


def available_patches(conn: Connection, account_id: str, region: str,
                      filters: Sequence[PatchFilter]) -> list[AvailablePatch]:
    """The distinct patches (by product and title) the nodes reported, those every filter keeps, by title."""
    keys = {f.key for f in filters}
    for f in filters:
        if f.key not in AVAILABLE_KEYS:
            raise ValidationError(f"The filter key {f.key} is not valid. Valid filter keys: "
                                  f"{', '.join(AVAILABLE_KEYS)}.")
        if not f.values:
            raise ValidationError(f"The filter {f.key} needs at least one value.")
    if keys & set(_LINUX_KEYS) and "PRODUCT" not in keys:
        # The API reference: "When specifying filters for Linux patches, you must specify a key-pair for PRODUCT."
        raise ValidationError("When specifying filters for Linux patches, you must specify a key-pair for PRODUCT.")
    seen: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for item in _patch_items(conn, account_id, region, []):
        title = item.title or item.id or ""
        _, facts = seen.setdefault((item.details.get("Product", ""), title), (title, {}))
        facts.update({k: v for k, v in item.details.items() if v and not facts.get(k)})  # nodes' facts merged
    kept = [(title, facts) for title, facts in seen.values() if all(_detail_matches(facts, f) for f in filters)]
    return sorted((_available(title, facts) for title, facts in kept), key=lambda p: (p.product or "", p.title))


def _patch_items(conn: Connection, account_id: str, region: str, instance_ids: Sequence[str]) -> list[ComplianceItem]:
    return compliance.items_of(conn, account_id, region, instance_ids, compliance_types=[PATCH])


def _instance_patch(item: ComplianceItem) -> InstancePatch:
    details = item.details
    state = details.get("PatchState", "")
    return InstancePatch(title=item.title or "", kb_id=item.id or "", classification=details.get("Classification", ""),
                         severity=details.get("PatchSeverity", ""), state=STATES.get(state, state.upper()),
                         installed_time=parse_time(details.get("InstalledTime")) or EPOCH,
                         cve_ids=details.get("CVEIds") or None)


def _keeps(row: InstancePatch, f: PatchFilter) -> bool:
    if f.key == "State":  # "Installed" as the user guide spells states, or the API's "INSTALLED"
        return row.state in {STATES.get(v, v.upper()) for v in f.values}
    value = {"Classification": row.classification, "KBId": row.kb_id, "Severity": row.severity}[f.key]
    return value in f.values


def _detail_matches(details: Mapping[str, str], f: PatchFilter) -> bool:
    attribute = AVAILABLE_KEYS[f.key]
    reported = details.get(attribute, "")
    if attribute in _LISTS:
        return bool(set(_split(reported)) & set(f.values))
    return reported in f.values


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _available(title: str, d: Mapping[str, str]) -> AvailablePatch:
    epoch = d.get("Epoch")
    return AvailablePatch(
        id=title, title=title, product=d.get("Product"), name=d.get("Name"), arch=d.get("Arch"),
        epoch=int(epoch) if epoch and epoch.isdigit() else None, version=d.get("Version"), release=d.get("Release"),
        classification=d.get("Classification"), severity=d.get("PatchSeverity"), repository=d.get("Repository"),
        release_date=parse_time(d.get("ReleaseDate")), cve_ids=_split(d.get("CVEIds")),
        advisory_ids=_split(d.get("AdvisoryIds")), bugzilla_ids=_split(d.get("BugzillaIds")))
