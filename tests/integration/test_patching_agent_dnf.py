"""Patching end to end on the rpm side: a real server and a real agent patching a throwaway Rocky Linux 9 root
(--package-root) with the real dnf and rpm, never this machine's packages. The agent reports the root's
os-release as its platform (Rocky Linux 9.3, though this machine runs Debian), so the service maps the node to
ROCKY_LINUX / RockyLinux9.3 and hands it the ROCKY_LINUX baseline registered for its patch group, which is the
operating system the agent finds in the root. AWS-RunPatchBaseline Scan reports Missing what the baseline's
CLASSIFICATION and SEVERITY rules approve (a rejected package is not); Install upgrades exactly that in the
root's rpm database and leaves the node COMPLIANT."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_patching_agent import (
    grouped_baseline,
    patch_compliance,
    patch_summary,
    run_patch_baseline,
)
from tests.support.agents import AgentProcess, patching_agent
from tests.support.rpm_root import RpmRoot
from tests.support.server import ServerProcess

RULES = {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
    {"Key": "CLASSIFICATION", "Values": ["Security"]}, {"Key": "SEVERITY", "Values": ["Critical", "Important"]}]},
    "ComplianceLevel": "CRITICAL", "ApproveAfterDays": 0}]}
BEFORE = {"alpha": "1.0-1.el9", "beta": "1.0-1.el9", "gamma": "1.0-1.el9", "delta": "1.0-1.el9",
          "epsilon": "1.0-1.el9"}


@pytest.fixture
def node(tmp_path: Path) -> RpmRoot:
    root = RpmRoot.make(tmp_path)
    repo = root.repo
    old = {name: repo.add(name, "1.0") for name in BEFORE}
    repo.advise("RLSA-2024:1001", "security", [repo.add("alpha", "1.1")], "Important",
                cves=["CVE-2024-1001"])  # approved: Missing
    repo.advise("RLSA-2024:1002", "security", [repo.add("beta", "1.1")], "Critical")  # rejected
    repo.advise("RLBA-2024:1003", "bugfix", [repo.add("gamma", "1.1")])  # not a security update
    repo.advise("RLSA-2024:1004", "security", [repo.add("delta", "1.1")], "Low")  # not severe enough
    repo.advise("RLSA-2023:0900", "security", [old["epsilon"]], "Important")  # installed and approved
    repo.publish()
    root.install(*BEFORE.items())
    return root


@pytest.fixture
def patched_agent(server: ServerProcess, node: RpmRoot, tmp_path: Path) -> Iterator[AgentProcess]:
    with patching_agent(server, node.root, tmp_path / "agent") as running:
        yield running


def test_scan_then_install_patches_the_rpm_root_as_the_baseline_says(server: ServerProcess, node: RpmRoot,
                                                                      patched_agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    instance_id = patched_agent.instance_id
    info = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])["InstanceInformationList"][0]
    assert (info["PlatformType"], info["PlatformName"], info["PlatformVersion"]) == ("Linux", "Rocky Linux", "9.3")
    baseline_id, group = grouped_baseline(server, instance_id, "ROCKY_LINUX", RULES)

    scan = run_patch_baseline(server, patched_agent, "Scan")
    assert "Missing                 1" in scan["StandardOutputContent"]
    summary = patch_summary(server, instance_id)
    assert {k: summary[k] for k in ("BaselineId", "PatchGroup", "OperationType", "MissingCount", "InstalledCount",
                                    "InstalledOtherCount", "ExecutionId")} == {
        "BaselineId": baseline_id, "PatchGroup": group, "OperationType": "Scan", "MissingCount": "1",
        "InstalledCount": "1", "InstalledOtherCount": "3", "ExecutionId": scan["command_id"]}
    assert patch_compliance(server, instance_id) == {
        "alpha.noarch": ("NON_COMPLIANT", "CRITICAL", "Missing"),
        "beta.noarch": ("COMPLIANT", "UNSPECIFIED", "InstalledOther"),
        "gamma.noarch": ("COMPLIANT", "UNSPECIFIED", "InstalledOther"),
        "delta.noarch": ("COMPLIANT", "UNSPECIFIED", "InstalledOther"),
        "epsilon.noarch": ("COMPLIANT", "CRITICAL", "Installed")}
    patches = server.aws_json("ssm", "describe-instance-patches", "--instance-id", instance_id,
                              "--filters", "Key=State,Values=Missing")["Patches"]
    assert [(p["Title"], p["Classification"], p["Severity"], p["CVEIds"]) for p in patches] == [
        ("alpha.noarch:0:1.1-1.el9", "Security", "Important", "CVE-2024-1001")]
    assert node.installed() == BEFORE  # a scan changes nothing

    install = run_patch_baseline(server, patched_agent, "Install")
    assert "alpha 1.0-1.el9 -> 1.1-1.el9" in install["StandardOutputContent"]
    assert node.installed() == {**BEFORE, "alpha": "1.1-1.el9"}
    assert patch_compliance(server, instance_id)["alpha.noarch"] == ("COMPLIANT", "CRITICAL", "Installed")
    summary = patch_summary(server, instance_id)
    assert (summary["OperationType"], summary["MissingCount"], summary["InstalledCount"]) == ("Install", "0", "2")
    state = ssm.describe_instance_patch_states(InstanceIds=[instance_id])["InstancePatchStates"][0]
    assert (state["BaselineId"], state["Operation"], state["MissingCount"], state["InstalledCount"]) == (
        baseline_id, "Install", 0, 2)
    overall = ssm.list_resource_compliance_summaries(
        Filters=[{"Key": "ComplianceType", "Values": ["Patch"]},
                 {"Key": "ResourceId", "Values": [instance_id]}])["ResourceComplianceSummaryItems"]
    assert [(s["ResourceId"], s["Status"]) for s in overall] == [(instance_id, "COMPLIANT")]
