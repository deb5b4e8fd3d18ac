"""Patch Manager's node side through a real server: a hybrid node (enrolled as AWS's agent enrols) asks for its
patch snapshot with its own credentials (boto3 and the aws CLI), downloads it, and reports a Scan as the patching
contract says (PutInventory AWS:PatchSummary, PutComplianceItems of type Patch); then every describe call answers
from what it reported, and bad requests get AWS's errors."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openssm.api.patch_snapshots import TOKEN_KEY_LABEL, Claims, SnapshotTokens
from openssm.store.secrets import SecretBox
from tests.support.agents import node_role
from tests.support.iam import user_with_policy, wait_briefly
from tests.support.node_client import Node
from tests.support.server import ServerProcess

COUNTS = {"InstalledCount": 12, "InstalledOtherCount": 1, "InstalledPendingRebootCount": 0,
          "InstalledRejectedCount": 0, "MissingCount": 2, "FailedCount": 0, "NotApplicableCount": 3,
          "UnreportedNotApplicableCount": 0, "CriticalNonCompliantCount": 1, "SecurityNonCompliantCount": 1,
          "OtherNonCompliantCount": 1}


def enrolled(server: ServerProcess, group: str) -> Node:
    created = server.client("ssm").create_activation(IamRole=node_role(server))
    node = Node(server).enrol(created["ActivationId"], created["ActivationCode"])
    assert node.heartbeat().status == 200 and node.instance_id is not None
    server.client("ssm").add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id,
                                              Tags=[{"Key": "Patch Group", "Value": group}])
    return node


def node_ssm(server: ServerProcess, node: Node) -> Any:
    return server.client("ssm", creds=node.creds)


def fetch(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_scan(server: ServerProcess, node: Node, group: str, snapshot_id: str, baseline_id: str,
                patches: list[dict[str, Any]]) -> None:
    """What the agent sends after a Scan: its AWS:PatchSummary and one compliance item per patch."""
    ssm = node_ssm(server, node)
    summary = {"PatchGroup": group, "BaselineId": baseline_id, "SnapshotId": snapshot_id, "OwnerInformation": "",
               **{k: str(v) for k, v in COUNTS.items()}, "OperationType": "Scan",
               "OperationStartTime": "2026-12-06T10:00:00Z", "OperationEndTime": "2026-12-06T10:02:00Z",
               "RebootOption": "RebootIfNeeded", "InstallOverrideList": "", "LastNoRebootInstallOperationTime": "",
               "ExecutionId": "cmd-1"}
    ssm.put_inventory(InstanceId=node.instance_id, Items=[{
        "TypeName": "AWS:PatchSummary", "SchemaVersion": "1.0", "CaptureTime": now_iso(), "Content": [summary]}])
    ssm.put_compliance_items(ResourceId=node.instance_id, ResourceType="ManagedInstance", ComplianceType="Patch",
                             UploadType="COMPLETE", Items=patches, ExecutionSummary={
                                 "ExecutionTime": dt.datetime.now(dt.UTC), "ExecutionId": "cmd-1",
                                 "ExecutionType": "Command"})


def patch_item(name: str, state: str, baseline_id: str, group: str, severity: str = "UNSPECIFIED",
               **facts: str) -> dict[str, Any]:
    non_compliant = state in ("Missing", "Failed", "InstalledPendingReboot")
    details = {"PatchState": state, "Classification": "", "PatchSeverity": "optional", "PatchBaselineId": baseline_id,
               "PatchGroup": group, "Name": name, "Arch": "amd64", "Epoch": "0", "Version": "1.2.3",
               "Product": "Debian12", "Section": "utils", "Priority": "optional", "Repository": "bookworm", **facts}
    return {"Id": f"{name}.amd64", "Title": f"{name}.amd64:0:1.2.3", "Severity": severity,
            "Status": "NON_COMPLIANT" if non_compliant else "COMPLIANT", "Details": {k: v for k, v in details.items()
                                                                                    if v}}


def test_a_node_gets_its_snapshot_reports_a_scan_and_every_view_shows_it(server: ServerProcess) -> None:
    group = f"web-{uuid.uuid4().hex[:8]}"
    node = enrolled(server, group)
    snapshot_id = str(uuid.uuid4())
    answer = node_ssm(server, node).get_deployable_patch_snapshot_for_instance(InstanceId=node.instance_id,
                                                                               SnapshotId=snapshot_id)
    assert answer["InstanceId"] == node.instance_id and answer["SnapshotId"] == snapshot_id
    assert answer["Product"] == "Debian12"
    assert answer["SnapshotDownloadUrl"].startswith(f"{server.endpoint}/openssm/v1/patch-snapshots/")
    status, snapshot = fetch(answer["SnapshotDownloadUrl"])
    assert status == 200 and snapshot["InstanceId"] == node.instance_id and snapshot["PatchGroup"] == group
    assert snapshot["OperatingSystem"] == "DEBIAN" and snapshot["Product"] == "Debian12"
    baseline = snapshot["PatchBaseline"]
    assert baseline["OperatingSystem"] == "DEBIAN" and baseline["BaselineId"].startswith("arn:aws:ssm:")

    again = server.aws_json("ssm", "get-deployable-patch-snapshot-for-instance", "--instance-id",
                            node.instance_id, "--snapshot-id", snapshot_id, creds=node.creds)
    assert fetch(again["SnapshotDownloadUrl"])[1]["CreatedTime"] == snapshot["CreatedTime"]

    patches = [patch_item(f"pkg{n:02d}", "Installed", baseline["BaselineId"], group,
                          InstalledTime="2026-11-01T10:00:00Z") for n in range(12)]
    patches += [patch_item("curl", "Missing", baseline["BaselineId"], group, "CRITICAL", Classification="Security",
                           PatchSeverity="important", CVEIds="CVE-2024-1,CVE-2024-2", Version="8.0.0")]
    report_scan(server, node, group, snapshot_id, baseline["BaselineId"], patches)
    _check_states(server, node, group, snapshot_id, baseline["BaselineId"])
    _check_patches(server, node)


def _check_states(server: ServerProcess, node: Node, group: str, snapshot_id: str, baseline_id: str) -> None:
    [state] = server.aws_json("ssm", "describe-instance-patch-states", "--instance-ids",
                              node.instance_id)["InstancePatchStates"]
    assert state["PatchGroup"] == group and state["BaselineId"] == baseline_id
    assert state["SnapshotId"] == snapshot_id and state["Operation"] == "Scan"
    assert {k: state[k] for k in COUNTS} == COUNTS and state["RebootOption"] == "RebootIfNeeded"
    ssm = server.client("ssm")
    states = ssm.describe_instance_patch_states_for_patch_group(PatchGroup=group, Filters=[
        {"Key": "MissingCount", "Values": ["1"], "Type": "GreaterThan"}])["InstancePatchStates"]
    assert [s["InstanceId"] for s in states] == [node.instance_id]
    assert states[0]["OperationEndTime"] == dt.datetime(2026, 12, 6, 10, 2, tzinfo=dt.UTC)
    assert ssm.describe_instance_patch_states_for_patch_group(PatchGroup=group, Filters=[
        {"Key": "MissingCount", "Values": ["2"], "Type": "LessThan"}])["InstancePatchStates"] == []
    group_state = ssm.describe_patch_group_state(PatchGroup=group)
    assert group_state["Instances"] == 1 and group_state["InstancesWithMissingPatches"] == 1
    assert group_state["InstancesWithCriticalNonCompliantPatches"] == 1
    assert group_state["InstancesWithFailedPatches"] == 0


def _check_patches(server: ServerProcess, node: Node) -> None:
    ssm = server.client("ssm")
    first = ssm.describe_instance_patches(InstanceId=node.instance_id, MaxResults=10)
    rest = ssm.describe_instance_patches(InstanceId=node.instance_id, NextToken=first["NextToken"])
    assert len(first["Patches"]) == 10 and len(rest["Patches"]) == 3 and "NextToken" not in rest
    missing = server.aws_json("ssm", "describe-instance-patches", "--instance-id", node.instance_id,
                              "--filters", "Key=State,Values=Missing")["Patches"]
    assert [(p["KBId"], p["State"], p["Severity"], p["CVEIds"]) for p in missing] == [
        ("curl.amd64", "MISSING", "important", "CVE-2024-1,CVE-2024-2")]
    available = ssm.describe_available_patches(Filters=[{"Key": "PRODUCT", "Values": ["Debian12"]},
                                                        {"Key": "CVE_ID", "Values": ["CVE-2024-2"]}])["Patches"]
    assert any(p["Name"] == "curl" and p["Version"] == "8.0.0" and p["CVEIds"] == ["CVE-2024-1", "CVE-2024-2"]
               for p in available)
    items = ssm.list_compliance_items(ResourceIds=[node.instance_id], ResourceTypes=["ManagedInstance"],
                                      Filters=[{"Key": "ComplianceType", "Values": ["Patch"]}])["ComplianceItems"]
    assert {i["Id"] for i in items} >= {"curl.amd64", "pkg00.amd64"}
    [summary] = [s for s in ssm.list_resource_compliance_summaries(Filters=[
        {"Key": "ResourceId", "Values": [node.instance_id]}])["ResourceComplianceSummaryItems"]
        if s["ComplianceType"] == "Patch"]
    assert summary["Status"] == "NON_COMPLIANT" and summary["OverallSeverity"] == "CRITICAL"


def test_snapshot_urls_and_snapshots_are_only_the_nodes_own(server: ServerProcess) -> None:
    group = f"db-{uuid.uuid4().hex[:8]}"
    mine, other = enrolled(server, group), enrolled(server, group)
    snapshot_id = str(uuid.uuid4())
    url = node_ssm(server, mine).get_deployable_patch_snapshot_for_instance(
        InstanceId=mine.instance_id, SnapshotId=snapshot_id)["SnapshotDownloadUrl"]
    for asker in (node_ssm(server, other), server.client("ssm")):
        with pytest.raises(ClientError) as refused:
            asker.get_deployable_patch_snapshot_for_instance(InstanceId=mine.instance_id, SnapshotId=snapshot_id)
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    head, _, token = url.rpartition("/")
    assert fetch(f"{head}/{token[:-3]}abc")[0] == 403
    assert fetch(f"{head}/not-a-token")[0] == 403

    account = server.client("sts").get_caller_identity()["Account"]
    tokens = SnapshotTokens(SecretBox((server.data_dir / "master.key").read_bytes()).derive_key(TOKEN_KEY_LABEL))
    created = int(dt.datetime.fromisoformat(fetch(url)[1]["CreatedTime"].replace("Z", "+00:00")).timestamp())
    past = int(dt.datetime.now(dt.UTC).timestamp()) - 1
    expired = tokens.issue(Claims(account, server.region, mine.instance_id, snapshot_id, created, past))
    status, body = fetch(f"{head}/{expired}")
    assert status == 403 and body["__type"] == "AccessDeniedException"
    theirs = tokens.issue(Claims(account, server.region, other.instance_id, snapshot_id, created, past + 600))
    assert fetch(f"{head}/{theirs}")[0] == 404  # a valid token, but that node was never handed the snapshot


@pytest.mark.parametrize(("call", "params", "code"), [
    ("get_deployable_patch_snapshot_for_instance", {"InstanceId": "mi-00000000000000000", "SnapshotId": "x" * 36},
     "ValidationException"),
    ("describe_instance_patch_states_for_patch_group", {"PatchGroup": "g", "Filters": [
        {"Key": "Colour", "Values": ["1"], "Type": "Equal"}]}, "InvalidFilter"),
    ("describe_instance_patch_states_for_patch_group", {"PatchGroup": "g", "Filters": [
        {"Key": "MissingCount", "Values": ["x"], "Type": "Equal"}]}, "InvalidFilter"),
    ("describe_instance_patches", {"InstanceId": "mi-00000000000000000"}, "InvalidInstanceId"),
    ("describe_instance_patches", {"InstanceId": "mi-00000000000000000", "MaxResults": 5}, "ValidationException"),
    ("describe_available_patches", {"Filters": [{"Key": "CVE_ID", "Values": ["CVE-2018-3615"]}]},
     "ValidationException"),
    ("describe_instance_patch_states", {"InstanceIds": ["mi-00000000000000000"], "NextToken": "bogus"},
     "InvalidNextToken"),
    ("describe_effective_patches_for_patch_baseline", {"BaselineId": "pb-0123456789abcdef0"},
     "DoesNotExistException"),
])
def test_bad_requests_get_aws_errors(server: ServerProcess, call: str, params: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as refused:
        getattr(server.client("ssm", parameter_validation=False), call)(**params)
    assert refused.value.response["Error"]["Code"] == code


def test_effective_patches_are_for_windows_baselines_only(server: ServerProcess) -> None:
    ssm = server.client("ssm")
    debian = ssm.get_default_patch_baseline(OperatingSystem="DEBIAN")["BaselineId"]
    with pytest.raises(ClientError) as refused:
        ssm.describe_effective_patches_for_patch_baseline(BaselineId=debian)
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperatingSystem"
    windows = ssm.get_default_patch_baseline(OperatingSystem="WINDOWS")["BaselineId"]
    assert ssm.describe_effective_patches_for_patch_baseline(BaselineId=windows)["EffectivePatches"] == []


def test_aws_run_patch_baseline_is_listed_with_awss_parameters(server: ServerProcess) -> None:
    described = server.aws_json("ssm", "describe-document", "--name", "AWS-RunPatchBaseline")["Document"]
    assert described["SchemaVersion"] == "2.2" and described["Owner"] == "Amazon"
    assert sorted(described["PlatformTypes"]) == ["Linux", "MacOS", "Windows"]
    assert [p["Name"] for p in described["Parameters"]] == ["Operation", "SnapshotId", "InstallOverrideList",
                                                          "BaselineOverride", "RebootOption"]


def test_the_views_are_authorized_by_the_policy_engine(server: ServerProcess) -> None:
    ssm = server.client("ssm")
    windows = ssm.get_default_patch_baseline(OperatingSystem="WINDOWS")["BaselineId"]
    debian = ssm.get_default_patch_baseline(OperatingSystem="DEBIAN")["BaselineId"]
    _, creds = user_with_policy(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:DescribeInstancePatchStates", "ssm:DescribePatchGroupState"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "ssm:DescribeEffectivePatchesForPatchBaseline", "Resource": windows}]})
    wait_briefly()
    limited = server.client("ssm", creds=creds)
    assert limited.describe_instance_patch_states(InstanceIds=["mi-00000000000000000"])["InstancePatchStates"] == []
    assert limited.describe_patch_group_state(PatchGroup="nobody")["Instances"] == 0
    assert limited.describe_effective_patches_for_patch_baseline(BaselineId=windows)["EffectivePatches"] == []
    for call, params in (("describe_instance_patches", {"InstanceId": "mi-00000000000000000"}),
                         ("describe_available_patches", {}),
                         ("describe_effective_patches_for_patch_baseline", {"BaselineId": debian})):
        with pytest.raises(ClientError) as refused:
            getattr(limited, call)(**params)
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_run_command_takes_aws_run_patch_baseline_with_its_parameters_checked(server: ServerProcess) -> None:
    node = enrolled(server, f"cmd-{uuid.uuid4().hex[:8]}")
    ssm = server.client("ssm")
    sent = ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[node.instance_id],
                            Parameters={"Operation": ["Scan"], "SnapshotId": [str(uuid.uuid4())]})["Command"]
    assert sent["Parameters"]["Operation"] == ["Scan"] and sent["DocumentName"] == "AWS-RunPatchBaseline"
    for bad in ({"Operation": ["Patch"]}, {}, {"Operation": ["Scan"], "SnapshotId": ["not-a-uuid"]},
                {"Operation": ["Install"], "InstallOverrideList": ["ftp://example.com/list.yaml"]}):
        with pytest.raises(ClientError) as refused:
            ssm.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[node.instance_id], Parameters=bad)
        assert refused.value.response["Error"]["Code"] == "InvalidParameters"
