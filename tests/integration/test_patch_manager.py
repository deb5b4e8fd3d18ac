"""Patch Manager as seed 001 describes it, end to end with a real server and a real agent patching a throwaway
Debian root (never this machine's packages): a baseline auto-approves chosen categories (here Required and
Important priority security updates) with a list approved and a list rejected regardless of the rules; a State
Manager association scans the patch group; a maintenance window installs, and only inside the window; the
node's and the group's patch compliance flip to COMPLIANT."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.agents import AgentProcess, patching_agent
from tests.support.debian_root import DebianRoot
from tests.support.server import ServerProcess

WINDOW_FINAL = ("SUCCESS", "FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED_OVERLAPPING")


@pytest.fixture
def node(tmp_path: Path) -> DebianRoot:
    root = DebianRoot.make(tmp_path)
    for name, section, priority in (("alpha", "admin", "important"), ("beta", "libs", "important"),
                                    ("gamma", "utils", "optional"), ("delta", "admin", "optional")):
        root.repo.add(name, "1.0-1", section=section, priority=priority)
    root.repo.add("alpha", "1.1-1", priority="important", suite="bookworm-security")  # approved by the rule
    root.repo.add("beta", "1.1-1", section="libs", priority="important", suite="bookworm-security")  # rejected
    root.repo.add("gamma", "1.1-1", section="utils", suite="bookworm-security")  # Optional: not approved
    root.repo.add("delta", "2.0-1", suite="bookworm")  # not security, but on the approved list
    root.repo.publish()
    root.install(*((name, "1.0-1") for name in ("alpha", "beta", "gamma", "delta")))
    return root


@pytest.fixture
def agent(server: ServerProcess, node: DebianRoot, tmp_path: Path) -> Iterator[AgentProcess]:
    with patching_agent(server, node.root, tmp_path / "agent") as running:
        yield running


def patch_states(ssm: Any, instance_id: str) -> dict[str, str]:
    return {p["Title"].split(".")[0]: p["State"]
            for p in ssm.describe_instance_patches(InstanceId=instance_id)["Patches"]}


def wait_summary(ssm: Any, instance_id: str, operation: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        states = ssm.describe_instance_patch_states(InstanceIds=[instance_id])["InstancePatchStates"]
        if states and states[0]["Operation"] == operation:
            return dict(states[0])
        assert time.monotonic() < deadline, f"no {operation} reported: {states}"
        time.sleep(0.5)


def wait_window(ssm: Any, window_id: str, timeout: float = 150) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = ssm.describe_maintenance_window_executions(WindowId=window_id)["WindowExecutions"]
        if found and found[0]["Status"] in WINDOW_FINAL:
            return dict(found[0])
        assert time.monotonic() < deadline, f"the window has not run: {found}"
        time.sleep(0.5)


def test_a_baseline_scanned_by_association_and_installed_in_a_window_leaves_the_group_compliant(
        server: ServerProcess, node: DebianRoot, agent: AgentProcess) -> None:
    ssm, group = server.client("ssm"), f"web-{uuid.uuid4().hex[:8]}"
    instance_id = agent.instance_id
    baseline_id = server.aws_json(
        "ssm", "create-patch-baseline", "--name", f"{group}-baseline", "--operating-system", "DEBIAN",
        "--approval-rules", "PatchRules=[{PatchFilterGroup={PatchFilters=[{Key=PRIORITY,Values=[Required,Important]}]},"
                            "ComplianceLevel=CRITICAL}]",
        "--approved-patches", "delta", "--approved-patches-enable-non-security",
        "--approved-patches-compliance-level", "HIGH",
        "--rejected-patches", "beta", "--rejected-patches-action", "ALLOW_AS_DEPENDENCY")["BaselineId"]
    server.aws("ssm", "register-patch-baseline-for-patch-group", "--baseline-id", baseline_id,
               "--patch-group", group)
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=instance_id,
                             Tags=[{"Key": "Patch Group", "Value": group}])

    # Scan: an association on the patch group, as AWS's patch policies do; it runs once created.
    ssm.create_association(Name="AWS-RunPatchBaseline", Parameters={"Operation": ["Scan"]},
                           Targets=[{"Key": "tag:Patch Group", "Values": [group]}],
                           AssociationName=f"{group}-scan")
    scanned = wait_summary(ssm, instance_id, "Scan")
    assert (scanned["BaselineId"], scanned["PatchGroup"], scanned["MissingCount"], scanned["InstalledOtherCount"]) \
        == (baseline_id, group, 2, 2)
    assert patch_states(ssm, instance_id) == {"alpha": "MISSING", "delta": "MISSING", "beta": "INSTALLED_OTHER",
                                              "gamma": "INSTALLED_OTHER"}
    (before,) = ssm.list_resource_compliance_summaries(Filters=[
        {"Key": "ComplianceType", "Values": ["Patch"]}, {"Key": "ResourceId", "Values": [instance_id]}],
    )["ResourceComplianceSummaryItems"]
    assert (before["Status"], before["OverallSeverity"]) == ("NON_COMPLIANT", "CRITICAL")
    assert node.installed() == dict.fromkeys(("alpha", "beta", "gamma", "delta"), "1.0-1")  # a scan changes nothing

    # Install: only inside the window, a few seconds ahead.
    start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=8)
    window_id = ssm.create_maintenance_window(
        Name=f"{group}-patching", Schedule=f"at({start.strftime('%Y-%m-%dT%H:%M:%S')})", Duration=2, Cutoff=1,
        AllowUnassociatedTargets=False)["WindowId"]
    target_id = ssm.register_target_with_maintenance_window(
        WindowId=window_id, ResourceType="INSTANCE", Targets=[{"Key": "tag:Patch Group", "Values": [group]}],
    )["WindowTargetId"]
    ssm.register_task_with_maintenance_window(
        WindowId=window_id, TaskArn="AWS-RunPatchBaseline", TaskType="RUN_COMMAND", Priority=1,
        Targets=[{"Key": "WindowTargetIds", "Values": [target_id]}], MaxConcurrency="1", MaxErrors="0",
        TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Install"],
                                                                "RebootOption": ["NoReboot"]}}})
    assert node.installed()["alpha"] == "1.0-1"  # nothing before the window opens
    execution = wait_window(ssm, window_id)
    assert execution["Status"] == "SUCCESS", execution
    (task,) = ssm.describe_maintenance_window_execution_tasks(
        WindowExecutionId=execution["WindowExecutionId"])["WindowExecutionTaskIdentities"]
    (invocation,) = ssm.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=execution["WindowExecutionId"], TaskId=task["TaskExecutionId"],
    )["WindowExecutionTaskInvocationIdentities"]
    assert (invocation["Status"], invocation["WindowTargetId"]) == ("SUCCESS", target_id)
    assert dt.datetime.fromisoformat(str(invocation["StartTime"])) >= start - dt.timedelta(seconds=1)

    # Exactly the approved packages were upgraded; the rejected and the unapproved ones were not.
    assert node.installed() == {"alpha": "1.1-1", "delta": "2.0-1", "beta": "1.0-1", "gamma": "1.0-1"}
    installed = wait_summary(ssm, instance_id, "Install")
    assert (installed["MissingCount"], installed["InstalledCount"], installed["FailedCount"]) == (0, 2, 0)
    assert patch_states(ssm, instance_id) == {"alpha": "INSTALLED", "delta": "INSTALLED",
                                              "beta": "INSTALLED_OTHER", "gamma": "INSTALLED_OTHER"}
    (after,) = ssm.list_resource_compliance_summaries(Filters=[
        {"Key": "ComplianceType", "Values": ["Patch"]}, {"Key": "ResourceId", "Values": [instance_id]}],
    )["ResourceComplianceSummaryItems"]
    assert after["Status"] == "COMPLIANT"
    group_state = server.aws_json("ssm", "describe-patch-group-state", "--patch-group", group)
    assert (group_state["Instances"], group_state["InstancesWithMissingPatches"],
            group_state["InstancesWithInstalledPatches"]) == (1, 0, 1)
