"""What a patching operation tells the service (the OpenSSM patching contract, as AWS's payload reports): one
AWS:PatchSummary inventory item (counts per state, the operation and its times) and a COMPLETE upload of
Patch compliance items, one per package in a patch state, each carrying its catalogue facts in Details; and the
step's readable summary."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openssm.agent.patching.model import PatchRecord, PatchState, Scan

MAX_ITEMS = 10_000  # PutComplianceItems' limit
COUNTS = (("InstalledCount", PatchState.INSTALLED), ("InstalledOtherCount", PatchState.INSTALLED_OTHER),
          ("InstalledPendingRebootCount", PatchState.INSTALLED_PENDING_REBOOT),
          ("InstalledRejectedCount", PatchState.INSTALLED_REJECTED), ("MissingCount", PatchState.MISSING),
          ("FailedCount", PatchState.FAILED), ("NotApplicableCount", PatchState.NOT_APPLICABLE))


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Operation:
    """Who ran what: the facts the summary and the compliance upload carry besides the records."""

    instance_id: str
    execution_id: str  # the command's id
    snapshot_id: str
    baseline_id: str
    patch_group: str
    product: str
    operation: str  # Scan | Install
    reboot_option: str
    install_override_list: str
    start: dt.datetime
    end: dt.datetime
    last_no_reboot_install: str = ""
    debian: bool = True  # Ids are package names (rpm: name.arch)


def _non_compliant(records: Sequence[PatchRecord]) -> tuple[int, int, int]:
    bad = [r for r in records if not r.compliant]
    critical = sum(1 for r in bad if r.severity == "CRITICAL")
    security = sum(1 for r in bad if r.package.classification == "Security")
    other = sum(1 for r in bad if r.severity != "CRITICAL" and r.package.classification != "Security")
    return critical, security, other


def summary_item(scan: Scan, op: Operation) -> dict[str, Any]:
    """The AWS:PatchSummary item of PutInventory (every value a string)."""
    critical, security, other = _non_compliant(scan.records)
    content = {"PatchGroup": op.patch_group, "BaselineId": op.baseline_id, "SnapshotId": op.snapshot_id,
               "OwnerInformation": "",
               **{name: str(scan.count(state)) for name, state in COUNTS},
               "UnreportedNotApplicableCount": "0", "OperationType": op.operation,
               "OperationStartTime": stamp(op.start), "OperationEndTime": stamp(op.end),
               "RebootOption": op.reboot_option, "InstallOverrideList": op.install_override_list,
               "LastNoRebootInstallOperationTime": op.last_no_reboot_install, "ExecutionId": op.execution_id,
               "CriticalNonCompliantCount": str(critical), "SecurityNonCompliantCount": str(security),
               "OtherNonCompliantCount": str(other)}
    return {"TypeName": "AWS:PatchSummary", "SchemaVersion": "1.0", "CaptureTime": stamp(op.end),
            "Content": [content]}


def _details(record: PatchRecord, op: Operation) -> dict[str, str]:
    p = record.package
    details = {"PatchState": record.state.value, "Classification": p.classification, "PatchSeverity":
               p.severity or p.priority, "InstalledTime": stamp(p.installed_time) if p.installed_time and
               record.state != PatchState.MISSING else "", "PatchBaselineId": op.baseline_id,
               "PatchGroup": op.patch_group, "CVEIds": ",".join(p.cve_ids), "Name": p.name, "Arch": p.arch,
               "Epoch": p.epoch or "0", "Version": p.version, "Release": p.release, "Product": op.product,
               "Section": p.section, "Priority": p.priority, "Repository": p.repository,
               "ReleaseDate": stamp(p.release_date) if p.release_date else ""}
    return {key: value[:4096] for key, value in details.items() if value}


def compliance_request(scan: Scan, op: Operation) -> dict[str, Any]:
    """PutComplianceItems' body: the node's Patch compliance, replaced whole."""
    names = Counter(r.package.name for r in scan.records)
    ordered = sorted(scan.records, key=lambda r: r.compliant)[:MAX_ITEMS]  # non-compliant ones first
    items = []
    for record in ordered:
        p = record.package
        item_id = f"{p.name}.{p.arch}" if not op.debian else p.name if names[p.name] == 1 else \
            f"{p.name}:{p.arch}"  # a multi-arch package installed for two architectures
        items.append({"Id": item_id, "Title": p.title[:500], "Severity": record.severity,
                      "Status": "COMPLIANT" if record.compliant else "NON_COMPLIANT",
                      "Details": _details(record, op)})
    return {"ResourceId": op.instance_id, "ResourceType": "ManagedInstance", "ComplianceType": "Patch",
            "ExecutionSummary": {"ExecutionTime": op.end.timestamp(), "ExecutionId": op.execution_id,
                                 "ExecutionType": "Command"},
            "Items": items, "UploadType": "COMPLETE"}


def text_summary(scan: Scan, op: Operation, changes: Sequence[str], notes: Sequence[str]) -> str:
    """The step's standard output: the counts per state, what was installed and what is missing."""
    lines = [f"Patch {op.operation} for {op.instance_id} ({op.product}) with baseline {op.baseline_id}"
             f"{f' (patch group {op.patch_group})' if op.patch_group else ''}, snapshot {op.snapshot_id}",
             f"Operation: {op.operation}  Start: {stamp(op.start)}  End: {stamp(op.end)}  "
             f"RebootOption: {op.reboot_option}", ""]
    lines += [f"{name.removesuffix('Count'):<24}{scan.count(state)}" for name, state in COUNTS]
    if changes:
        lines += ["", "Installed in this operation:", *(f"  {c}" for c in changes)]
    for state in (PatchState.MISSING, PatchState.FAILED, PatchState.INSTALLED_REJECTED,
                  PatchState.INSTALLED_PENDING_REBOOT):
        chosen = [r for r in scan.records if r.state == state]
        if chosen:
            lines += ["", f"{state.value}:", *(f"  {r.package.title} ({r.severity})" for r in chosen)]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
