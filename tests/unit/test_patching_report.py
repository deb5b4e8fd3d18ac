"""What a patching operation reports: the AWS:PatchSummary counts (per state, and the non-compliant ones by
severity and classification), compliance item Ids and Titles per OS family, and the readable summary."""

from __future__ import annotations

import datetime as dt

from openssm.agent.patching.model import Package, PatchRecord, PatchState, Scan
from openssm.agent.patching.report import Operation, compliance_request, summary_item, text_summary

START = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(seconds=42)


def op(debian: bool = True, **kw: str) -> Operation:
    return Operation("mi-0123456789abcdef0", "cmd-1", "snap-1", "pb-0123456789abcdef0", kw.get("group", ""),
                     "Debian12" if debian else "RedhatEnterpriseLinux9.2", kw.get("operation", "Scan"), "NoReboot",
                     "", START, END, debian=debian)


def record(name: str, state: PatchState, severity: str = "UNSPECIFIED", classification: str = "",
           arch: str = "all", release: str = "") -> PatchRecord:
    return PatchRecord(Package(name, arch, "0", "1.0-1" if not release else "1.0", release,
                               classification=classification), state, severity)


SCAN = Scan((record("a", PatchState.MISSING, "CRITICAL", "Security"), record("b", PatchState.MISSING, "LOW"),
             record("c", PatchState.FAILED, "HIGH", "Security"), record("d", PatchState.INSTALLED, "HIGH"),
             record("e", PatchState.INSTALLED_OTHER), record("f", PatchState.INSTALLED_REJECTED)))


def test_summary_counts_states_and_non_compliant_patches_by_kind() -> None:
    content = summary_item(SCAN, op())["Content"][0]
    assert {k: content[k] for k in ("MissingCount", "FailedCount", "InstalledCount", "InstalledOtherCount",
                                    "InstalledRejectedCount", "InstalledPendingRebootCount", "NotApplicableCount",
                                    "CriticalNonCompliantCount", "SecurityNonCompliantCount",
                                    "OtherNonCompliantCount")} == {
        "MissingCount": "2", "FailedCount": "1", "InstalledCount": "1", "InstalledOtherCount": "1",
        "InstalledRejectedCount": "1", "InstalledPendingRebootCount": "0", "NotApplicableCount": "0",
        "CriticalNonCompliantCount": "1", "SecurityNonCompliantCount": "2", "OtherNonCompliantCount": "2"}
    assert (content["OperationStartTime"], content["OperationEndTime"]) == ("2024-06-01T12:00:00Z",
                                                                            "2024-06-01T12:00:42Z")


def test_summary_item_has_the_contracts_attributes_all_strings() -> None:
    item = summary_item(SCAN, op(group="web"))
    assert item["CaptureTime"] == "2024-06-01T12:00:42Z"
    content = item["Content"][0]
    assert set(content) == {
        "PatchGroup", "BaselineId", "SnapshotId", "OwnerInformation", "InstalledCount", "InstalledOtherCount",
        "InstalledPendingRebootCount", "InstalledRejectedCount", "MissingCount", "FailedCount",
        "NotApplicableCount", "UnreportedNotApplicableCount", "OperationType", "OperationStartTime",
        "OperationEndTime", "RebootOption", "InstallOverrideList", "LastNoRebootInstallOperationTime",
        "ExecutionId", "CriticalNonCompliantCount", "SecurityNonCompliantCount", "OtherNonCompliantCount"}
    assert all(isinstance(v, str) for v in content.values()) and content["PatchGroup"] == "web"


def test_compliance_items_list_non_compliant_first_with_ids_per_os_family() -> None:
    body = compliance_request(SCAN, op())
    assert [i["Id"] for i in body["Items"]][:4] == ["a", "b", "c", "f"]
    assert body["ExecutionSummary"] == {"ExecutionTime": END.timestamp(), "ExecutionId": "cmd-1",
                                        "ExecutionType": "Command"}
    rpm = Scan((record("openssl", PatchState.MISSING, arch="x86_64", release="16.el9"),))
    item = compliance_request(rpm, op(debian=False))["Items"][0]
    assert (item["Id"], item["Title"]) == ("openssl.x86_64", "openssl.x86_64:0:1.0-16.el9")
    assert item["Details"]["Release"] == "16.el9" and "Section" not in item["Details"]


def test_a_multi_arch_package_installed_twice_gets_two_ids() -> None:
    both = Scan((record("libssl3", PatchState.INSTALLED, arch="amd64"),
                 record("libssl3", PatchState.INSTALLED, arch="i386")))
    assert [i["Id"] for i in compliance_request(both, op())["Items"]] == ["libssl3:amd64", "libssl3:i386"]


def test_text_summary_names_counts_changes_and_missing_patches() -> None:
    text = text_summary(SCAN, op(operation="Install"), ["a 1.0-1 -> 1.1-1"], ["note"])
    assert "Missing                 2" in text and "Installed in this operation:\n  a 1.0-1 -> 1.1-1" in text
    assert "Failed:\n  c.all:0:1.0-1 (HIGH)" in text and text.rstrip().endswith("note")
