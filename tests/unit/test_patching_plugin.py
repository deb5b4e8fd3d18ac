"""aws:runPatchBaseline with a fake service (no HTTP) against a real throwaway Debian root: apt really runs
against the root (tests/support/debian_root.py); what the plugin reports is what the fake service records."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.patching.sources import SourceError
from openssm.agent.plugins.patch_baseline import NAME, PatchBaseline, PatchSettings, parse_inputs
from openssm.agent.plugins.run_shell import ProcessHandle
from openssm.agent.plugins.steps import StepRun
from openssm.agent.state import StateDir
from openssm.protocol.command_payload import Step
from openssm.protocol.mgs import PluginResult
from tests.support.debian_root import DebianRoot

INSTANCE = "mi-0123456789abcdef0"
COMMAND = "11111111-2222-3333-4444-555555555555"
BASELINE: dict[str, Any] = {
    "BaselineId": "pb-0123456789abcdef0", "Name": "debian-tests", "OperatingSystem": "DEBIAN",
    "GlobalFilters": {"PatchFilters": [{"Key": "PRODUCT", "Values": ["Debian12"]}]},
    "ApprovalRules": {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
        {"Key": "PRIORITY", "Values": ["Optional"]}, {"Key": "SECTION", "Values": ["admin", "libs"]}]},
        "ComplianceLevel": "HIGH", "EnableNonSecurity": False}]},
    "ApprovedPatches": [], "ApprovedPatchesComplianceLevel": "UNSPECIFIED", "ApprovedPatchesEnableNonSecurity": False,
    "RejectedPatches": ["beta"], "RejectedPatchesAction": "BLOCK", "Sources": [], "Description": ""}


class FakeService:
    """Answers the plugin's calls as the patching contract says the service does, and records them."""

    def __init__(self, baseline: dict[str, Any]) -> None:
        self.baseline = baseline
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((target, body))
        if target == "GetDeployablePatchSnapshotForInstance":
            return {"InstanceId": body["InstanceId"], "SnapshotId": body["SnapshotId"], "Product": "Debian12",
                    "SnapshotDownloadUrl": f"https://openssm.example/snapshots/{body['SnapshotId']}?token=t"}
        return {}

    def download(self, url: str) -> dict[str, Any]:
        snapshot_id = url.rsplit("/", 1)[1].split("?")[0]
        return {"SnapshotId": snapshot_id, "InstanceId": INSTANCE, "AccountId": "123456789012",
                "Region": "us-east-1", "Product": "Debian12", "OperatingSystem": "DEBIAN", "PatchGroup": "web",
                "CreatedTime": "2024-06-01T00:00:00Z", "PatchBaseline": self.baseline}

    def sent(self, target: str) -> dict[str, Any]:
        return [body for name, body in self.calls if name == target][-1]

    def summary(self) -> dict[str, str]:
        item = self.sent("PutInventory")["Items"][0]
        assert (item["TypeName"], item["SchemaVersion"]) == ("AWS:PatchSummary", "1.0")
        return dict(item["Content"][0])

    def states(self) -> dict[str, tuple[str, str, str]]:
        """Id -> (PatchState, Version, Status) of the last compliance upload."""
        return {i["Id"]: (i["Details"]["PatchState"], i["Details"]["Version"], i["Status"])
                for i in self.sent("PutComplianceItems")["Items"]}


@pytest.fixture
def node(tmp_path: Path) -> DebianRoot:
    root = DebianRoot.make(tmp_path)
    repo = root.repo
    for name, section in (("alpha", "admin"), ("beta", "libs"), ("gamma", "admin")):
        repo.add(name, "1.0-1", section=section)
    repo.add("alpha", "1.1-1", suite="bookworm-security")
    repo.add("beta", "1.1-1", section="libs", suite="bookworm-security")
    repo.add("gamma", "2.0-1", suite="bookworm")  # not a security update
    repo.add("epsilon", "1.0-1", section="games")
    repo.add("epsilon", "1.1-1", section="games", suite="bookworm-security")
    repo.publish()
    root.install(("alpha", "1.0-1"), ("beta", "1.0-1"), ("gamma", "1.0-1"), ("epsilon", "1.0-1"))
    return root


class Harness:
    def __init__(self, root: DebianRoot, tmp_path: Path, baseline: dict[str, Any] | None = None,
                 fetched: dict[str, str] | None = None) -> None:
        self.root = root
        self.service = FakeService(baseline or BASELINE)
        self.reboots: list[tuple[tuple[str, ...], float]] = []
        self.fetched = fetched or {}
        self.state = StateDir(tmp_path / "state")
        self.plugin = PatchBaseline(self.service.call, INSTANCE, self.service.download, self.state,
                                    PatchSettings(root.root, ("true", "reboot"), 0.0), fetch=self._fetch,
                                    reboot=lambda argv, delay: self.reboots.append((argv, delay)))
        self.work = tmp_path / "jobs"

    def _fetch(self, name: str, url: str, ca_bundle: str | None) -> str:
        if url.startswith("s3://"):
            raise SourceError(f"{name} {url} is an s3:// path; the OpenSSM agent has no S3 client")
        return self.fetched[url]

    def run(self, **inputs: str) -> PluginResult:
        step = Step(NAME, "PatchLinux", (), "", 7200)
        return self.plugin(StepRun(step, self.work, ProcessHandle(), {"SSM_COMMAND_ID": COMMAND},
                                   {"SnapshotId": "", "InstallOverrideList": "", "BaselineOverride": "", **inputs}))


def test_scan_reports_each_package_in_its_state_and_changes_nothing(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path)
    result = harness.run(Operation="Scan", RebootOption="NoReboot")
    assert (result.status, result.code) == ("Success", 0), result.standard_error
    assert harness.service.states() == {
        "alpha": ("Missing", "1.1-1", "NON_COMPLIANT"), "beta": ("InstalledRejected", "1.0-1", "NON_COMPLIANT"),
        "gamma": ("Installed", "1.0-1", "COMPLIANT"), "epsilon": ("InstalledOther", "1.0-1", "COMPLIANT")}
    summary = harness.service.summary()
    assert {k: summary[k] for k in ("MissingCount", "InstalledCount", "InstalledOtherCount", "InstalledRejectedCount",
                                    "FailedCount", "OperationType", "PatchGroup", "BaselineId", "SnapshotId",
                                    "ExecutionId", "SecurityNonCompliantCount")} == {
        "MissingCount": "1", "InstalledCount": "1", "InstalledOtherCount": "1", "InstalledRejectedCount": "1",
        "FailedCount": "0", "OperationType": "Scan", "PatchGroup": "web", "BaselineId": "pb-0123456789abcdef0",
        "SnapshotId": COMMAND, "ExecutionId": COMMAND, "SecurityNonCompliantCount": "1"}
    assert all(isinstance(v, str) for v in summary.values())
    assert node.installed() == {"alpha": "1.0-1", "beta": "1.0-1", "gamma": "1.0-1", "epsilon": "1.0-1"}
    assert "Missing                 1" in result.standard_output and "alpha.all:0:1.1-1 (HIGH)" in result.standard_output


def test_snapshot_is_asked_for_with_the_command_id_or_the_given_snapshot(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path)
    harness.run(Operation="Scan")
    assert harness.service.sent("GetDeployablePatchSnapshotForInstance") == {"InstanceId": INSTANCE,
                                                                             "SnapshotId": COMMAND}
    given = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    harness.run(Operation="Scan", SnapshotId=given)
    assert harness.service.sent("GetDeployablePatchSnapshotForInstance")["SnapshotId"] == given
    assert harness.service.summary()["SnapshotId"] == given


def test_compliance_items_carry_the_contracts_title_and_details(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path)
    harness.run(Operation="Scan")
    body = harness.service.sent("PutComplianceItems")
    assert {k: body[k] for k in ("ResourceId", "ResourceType", "ComplianceType", "UploadType")} == {
        "ResourceId": INSTANCE, "ResourceType": "ManagedInstance", "ComplianceType": "Patch", "UploadType": "COMPLETE"}
    assert body["ExecutionSummary"]["ExecutionId"] == COMMAND and body["ExecutionSummary"]["ExecutionType"] == "Command"
    alpha = next(i for i in body["Items"] if i["Id"] == "alpha")
    assert (alpha["Title"], alpha["Severity"]) == ("alpha.all:0:1.1-1", "HIGH")
    assert alpha["Details"] == {"PatchState": "Missing", "Classification": "Security", "PatchSeverity": "optional",
                                "PatchBaselineId": "pb-0123456789abcdef0", "PatchGroup": "web", "Name": "alpha",
                                "Arch": "all", "Epoch": "0", "Version": "1.1-1", "Product": "Debian12",
                                "Section": "admin", "Priority": "optional", "Repository": "bookworm-security"}
    gamma = next(i for i in body["Items"] if i["Id"] == "gamma")
    dt.datetime.fromisoformat(gamma["Details"]["InstalledTime"].replace("Z", "+00:00"))  # an installed one's time
    json.dumps(body)  # the body is plain JSON


def test_install_upgrades_exactly_the_approved_missing_packages(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path)
    result = harness.run(Operation="Install", RebootOption="NoReboot")
    assert (result.status, result.code) == ("Success", 0), result.standard_output + result.standard_error
    assert node.installed() == {"alpha": "1.1-1", "beta": "1.0-1", "gamma": "1.0-1", "epsilon": "1.0-1"}
    assert harness.service.states()["alpha"] == ("Installed", "1.1-1", "COMPLIANT")
    summary = harness.service.summary()
    assert (summary["OperationType"], summary["MissingCount"], summary["InstalledCount"]) == ("Install", "0", "2")
    assert "alpha 1.0-1 -> 1.1-1" in result.standard_output
    last = dt.datetime.fromisoformat(summary["LastNoRebootInstallOperationTime"].replace("Z", "+00:00"))
    assert last >= dt.datetime.fromisoformat(summary["OperationStartTime"].replace("Z", "+00:00"))
    assert harness.reboots == []  # nothing asked for a reboot


def test_reboot_if_needed_does_not_reboot_a_node_that_needs_none(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path)
    assert harness.run(Operation="Install", RebootOption="RebootIfNeeded").code == 0
    assert harness.reboots == [] and harness.service.summary()["LastNoRebootInstallOperationTime"] == ""


def test_blocked_rejected_package_is_not_installed_even_as_a_dependency(node: DebianRoot, tmp_path: Path) -> None:
    node.repo.add("delta", "1.0-1")
    node.repo.add("delta", "2.0-1", suite="bookworm-security", depends="beta (>= 1.1-1)")
    node.repo.publish()
    node.install(("delta", "1.0-1"))
    harness = Harness(node, tmp_path)
    assert harness.run(Operation="Scan").code == 0
    assert harness.service.states()["delta"][0] == "Missing"
    result = harness.run(Operation="Install", RebootOption="NoReboot")
    assert result.code == 1 and "failed to install" in result.standard_error
    assert node.installed()["beta"] == "1.0-1" and node.installed()["delta"] == "1.0-1"
    assert node.installed()["alpha"] == "1.1-1"  # the others still install
    assert harness.service.states()["delta"] == ("Failed", "2.0-1", "NON_COMPLIANT")
    assert harness.service.summary()["FailedCount"] == "1"


def test_allow_as_dependency_lets_a_rejected_package_in_as_a_dependency(node: DebianRoot, tmp_path: Path) -> None:
    node.repo.add("delta", "1.0-1")
    node.repo.add("delta", "2.0-1", suite="bookworm-security", depends="beta (>= 1.1-1)")
    node.repo.publish()
    node.install(("delta", "1.0-1"))
    harness = Harness(node, tmp_path, {**BASELINE, "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY"})
    assert harness.run(Operation="Install", RebootOption="NoReboot").code == 0
    assert node.installed()["delta"] == "2.0-1" and node.installed()["beta"] == "1.1-1"
    assert harness.service.states()["beta"] == ("InstalledOther", "1.1-1", "COMPLIANT")


def test_no_reboot_install_leaves_patches_pending_until_the_reboot(node: DebianRoot, tmp_path: Path) -> None:
    node.require_reboot()
    harness = Harness(node, tmp_path)
    harness.run(Operation="Install", RebootOption="NoReboot")
    assert harness.service.states()["alpha"] == ("InstalledPendingReboot", "1.1-1", "NON_COMPLIANT")
    summary = harness.service.summary()
    assert summary["InstalledPendingRebootCount"] == "1" and summary["LastNoRebootInstallOperationTime"]
    assert harness.reboots == []
    harness.run(Operation="Scan")
    assert harness.service.states()["alpha"][0] == "InstalledPendingReboot"  # the same boot, still required
    (node.root / "var/run/reboot-required").unlink()
    harness.run(Operation="Scan")
    assert harness.service.states()["alpha"][0] == "Installed"


def test_reboot_if_needed_reboots_with_the_configured_command(node: DebianRoot, tmp_path: Path) -> None:
    node.require_reboot()
    harness = Harness(node, tmp_path)
    result = harness.run(Operation="Install", RebootOption="RebootIfNeeded")
    assert result.code == 0 and harness.reboots == [(("true", "reboot"), 0.0)]
    assert "reboots now" in result.standard_output


def test_install_override_list_installs_what_it_names(node: DebianRoot, tmp_path: Path) -> None:
    url = "https://lists.example/override.yaml"
    harness = Harness(node, tmp_path, fetched={url: "patches:\n  - id: 'gamma'\n    title: '2.0*'\n"})
    result = harness.run(Operation="Install", InstallOverrideList=url, RebootOption="NoReboot")
    assert result.code == 0, result.standard_error
    assert node.installed() == {"alpha": "1.0-1", "beta": "1.0-1", "gamma": "2.0-1", "epsilon": "1.0-1"}
    assert harness.service.summary()["InstallOverrideList"] == url


def test_baseline_override_replaces_the_snapshots_baseline(node: DebianRoot, tmp_path: Path) -> None:
    url = "https://lists.example/baselines.json"
    override = {**BASELINE, "BaselineId": "pb-0fffffffffffffff0", "RejectedPatches": [],
                "ApprovalRules": {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
                    {"Key": "SECTION", "Values": ["*"]}]}, "ComplianceLevel": "LOW"}]}}
    harness = Harness(node, tmp_path, fetched={url: json.dumps([{**override, "OperatingSystem": "UBUNTU"},
                                                                override])})
    assert harness.run(Operation="Scan", BaselineOverride=url).code == 0
    assert harness.service.summary()["BaselineId"] == "pb-0fffffffffffffff0"
    assert harness.service.summary()["MissingCount"] == "3"  # alpha, beta, epsilon: security updates


def test_s3_inputs_are_refused_with_a_clear_error(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path)
    result = harness.run(Operation="Install", InstallOverrideList="s3://bucket/list.yaml")
    assert result.code == 1 and "no S3 client" in result.standard_error
    assert node.installed()["alpha"] == "1.0-1"


@pytest.mark.parametrize(("inputs", "message"), [
    ({"Operation": "Patch"}, "Operation must be one of Scan, Install"),
    ({"Operation": "Scan", "RebootOption": "Always"}, "RebootOption must be one of"),
    ({"Operation": "Scan", "SnapshotId": "not-a-uuid"}, "SnapshotId must be empty or a UUID"),
    ({"Operation": ["Scan"]}, "invalid or unrecognized input")])
def test_bad_inputs_fail_the_step_before_anything_runs(inputs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_inputs(inputs)


def test_bad_input_fails_the_step_and_calls_nothing(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path)
    result = harness.run(Operation="Delete")
    assert (result.status, result.code) == ("Failed", 1) and harness.service.calls == []


def test_baseline_for_another_operating_system_fails_the_step(node: DebianRoot, tmp_path: Path) -> None:
    harness = Harness(node, tmp_path, {**BASELINE, "OperatingSystem": "UBUNTU"})
    result = harness.run(Operation="Scan")
    assert result.code == 1 and "this node runs DEBIAN (Debian12)" in result.standard_error
    assert [name for name, _ in harness.service.calls] == ["GetDeployablePatchSnapshotForInstance"]


def test_root_without_os_release_fails_the_step(node: DebianRoot, tmp_path: Path) -> None:
    (node.root / "etc/os-release").unlink()
    result = Harness(node, tmp_path).run(Operation="Scan")
    assert result.code == 1 and "no os-release" in result.standard_error
