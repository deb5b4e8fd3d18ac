"""Patching end to end: a real server and a real agent patching a throwaway Debian root (--package-root), never
this machine's packages. A custom DEBIAN baseline reaches the node through its patch group; AWS-RunPatchBaseline
Scan reports AWS:PatchSummary and Patch compliance (read back with ListInventoryEntries, GetInventory,
ListComplianceItems, DescribeInstancePatchStates and the aws CLI's describe-instance-patches), then Install upgrades exactly the approved packages in
the root and leaves the node COMPLIANT."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.agents import AgentProcess, patching_agent, wait_invocation
from tests.support.debian_root import DebianRoot
from tests.support.server import ServerProcess

RULES = {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
    {"Key": "PRIORITY", "Values": ["Optional"]}, {"Key": "SECTION", "Values": ["admin", "libs"]}]},
    "ComplianceLevel": "HIGH"}]}


@pytest.fixture
def node(tmp_path: Path) -> DebianRoot:
    root = DebianRoot.make(tmp_path)
    for name, section in (("alpha", "admin"), ("beta", "libs"), ("gamma", "admin")):
        root.repo.add(name, "1.0-1", section=section)
    root.repo.add("alpha", "1.1-1", suite="bookworm-security")  # approved: Missing
    root.repo.add("beta", "1.1-1", section="libs", suite="bookworm-security")  # rejected
    root.repo.add("gamma", "2.0-1", suite="bookworm")  # not a security update
    root.repo.publish()
    root.install(("alpha", "1.0-1"), ("beta", "1.0-1"), ("gamma", "1.0-1"))
    return root


@pytest.fixture
def patched_agent(server: ServerProcess, node: DebianRoot, tmp_path: Path) -> Iterator[AgentProcess]:
    with patching_agent(server, node.root, tmp_path / "agent") as running:
        yield running


def grouped_baseline(server: ServerProcess, instance_id: str, operating_system: str,
                     rules: dict[str, Any]) -> tuple[str, str]:
    """A custom baseline rejecting "beta" (ALLOW_AS_DEPENDENCY), registered for a new patch group that the
    node is tagged into; answers (baseline id, group)."""
    ssm, group = server.client("ssm"), f"patching-{uuid.uuid4().hex[:8]}"
    baseline_id = ssm.create_patch_baseline(
        Name=group, OperatingSystem=operating_system, ApprovalRules=rules, RejectedPatches=["beta"],
        RejectedPatchesAction="ALLOW_AS_DEPENDENCY")["BaselineId"]
    ssm.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup=group)
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=instance_id,
                             Tags=[{"Key": "Patch Group", "Value": group}])
    return str(baseline_id), group


def run_patch_baseline(server: ServerProcess, agent: AgentProcess, operation: str) -> dict[str, Any]:
    command = server.client("ssm").send_command(
        DocumentName="AWS-RunPatchBaseline", InstanceIds=[agent.instance_id],
        Parameters={"Operation": [operation], "RebootOption": ["NoReboot"]})["Command"]
    done = wait_invocation(server, command["CommandId"], agent.instance_id, timeout=120)
    assert done["Status"] == "Success", (done["StandardOutputContent"], done["StandardErrorContent"],
                                         agent.log.read_text()[-3000:])
    return {"command_id": command["CommandId"], **done}


def patch_compliance(server: ServerProcess, instance_id: str) -> dict[str, tuple[str, str, str]]:
    items = server.client("ssm").list_compliance_items(
        ResourceIds=[instance_id], ResourceTypes=["ManagedInstance"],
        Filters=[{"Key": "ComplianceType", "Values": ["Patch"]}])["ComplianceItems"]
    return {i["Id"]: (i["Status"], i["Severity"], i["Details"]["PatchState"]) for i in items}


def patch_summary(server: ServerProcess, instance_id: str) -> dict[str, str]:
    entries = server.client("ssm").list_inventory_entries(InstanceId=instance_id,
                                                          TypeName="AWS:PatchSummary")["Entries"]
    assert len(entries) == 1
    return dict(entries[0])


def test_scan_then_install_patches_the_root_as_the_baseline_says(server: ServerProcess, node: DebianRoot,
                                                                  patched_agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    instance_id = patched_agent.instance_id
    baseline_id, group = grouped_baseline(server, instance_id, "DEBIAN", RULES)

    scan = run_patch_baseline(server, patched_agent, "Scan")
    assert "Missing                 1" in scan["StandardOutputContent"]
    summary = patch_summary(server, instance_id)
    assert {k: summary[k] for k in ("BaselineId", "PatchGroup", "OperationType", "MissingCount", "InstalledCount",
                                    "InstalledOtherCount", "ExecutionId")} == {
        "BaselineId": baseline_id, "PatchGroup": group, "OperationType": "Scan", "MissingCount": "1",
        "InstalledCount": "1", "InstalledOtherCount": "1", "ExecutionId": scan["command_id"]}
    assert patch_compliance(server, instance_id) == {
        "alpha": ("NON_COMPLIANT", "HIGH", "Missing"), "beta": ("COMPLIANT", "UNSPECIFIED", "InstalledOther"),
        "gamma": ("COMPLIANT", "HIGH", "Installed")}
    found = ssm.get_inventory(Filters=[{"Key": "AWS:PatchSummary.MissingCount", "Values": ["1"], "Type": "Equal"},
                                       {"Key": "AWS:InstanceInformation.InstanceId", "Values": [instance_id],
                                        "Type": "Equal"}])["Entities"]
    assert [e["Id"] for e in found] == [instance_id]
    state = ssm.describe_instance_patch_states(InstanceIds=[instance_id])["InstancePatchStates"][0]
    assert (state["BaselineId"], state["MissingCount"], state["Operation"]) == (baseline_id, 1, "Scan")
    patches = server.aws_json("ssm", "describe-instance-patches", "--instance-id", instance_id)["Patches"]
    assert {p["Title"]: p["State"] for p in patches} == {
        "alpha.all:0:1.1-1": "MISSING", "beta.all:0:1.0-1": "INSTALLED_OTHER", "gamma.all:0:1.0-1": "INSTALLED"}
    assert node.installed() == {"alpha": "1.0-1", "beta": "1.0-1", "gamma": "1.0-1"}  # a scan changes nothing

    install = run_patch_baseline(server, patched_agent, "Install")
    assert "alpha 1.0-1 -> 1.1-1" in install["StandardOutputContent"]
    assert node.installed() == {"alpha": "1.1-1", "beta": "1.0-1", "gamma": "1.0-1"}
    assert patch_compliance(server, instance_id) == {
        "alpha": ("COMPLIANT", "HIGH", "Installed"), "beta": ("COMPLIANT", "UNSPECIFIED", "InstalledOther"),
        "gamma": ("COMPLIANT", "HIGH", "Installed")}
    summary = patch_summary(server, instance_id)
    assert (summary["OperationType"], summary["MissingCount"], summary["InstalledCount"]) == ("Install", "0", "2")
    overall = ssm.list_resource_compliance_summaries(
        Filters=[{"Key": "ComplianceType", "Values": ["Patch"]},
                 {"Key": "ResourceId", "Values": [instance_id]}])["ResourceComplianceSummaryItems"]
    assert [(s["ResourceId"], s["Status"]) for s in overall] == [(instance_id, "COMPLIANT")]
