"""State Manager, Inventory and Compliance end to end: a real server, real agents on this machine, the aws CLI
and boto3. An inventory association gathers what dpkg says is installed and watches a file's hash; an
association keeps a file in place and reports compliance; inventory is aggregated across nodes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.agents import AgentProcess
from tests.support.server import ServerProcess

NO_JITTER = {"OPENSSM_INVENTORY_JITTER_SECONDS": "0"}


def start_node(server: ServerProcess, state_dir: Path) -> AgentProcess:
    node = AgentProcess(server, state_dir).register().start(env=NO_JITTER)
    node.wait_online()
    return node


@pytest.fixture
def node(server: ServerProcess, tmp_path: Path) -> Iterator[AgentProcess]:
    running = start_node(server, tmp_path / "node")
    yield running
    running.stop()


def association_status(server: ServerProcess, association_id: str, instance_id: str, after: dt.datetime,
                       timeout: float = 120) -> dict[str, Any]:
    """The node's status for the association once a run that ended after `after` is final."""
    ssm = server.client("ssm")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for status in ssm.describe_instance_associations_status(InstanceId=instance_id)["InstanceAssociationStatusInfos"]:
            if (status["AssociationId"] == association_id and status["Status"] in ("Success", "Failed")
                    and status["ExecutionDate"] > after):
                return dict(status)
        time.sleep(0.5)
    raise AssertionError(f"association {association_id} did not run on {instance_id}")


def entries(server: ServerProcess, instance_id: str, type_name: str) -> list[dict[str, str]]:
    ssm, found, token = server.client("ssm"), [], None
    while True:
        page = ssm.list_inventory_entries(InstanceId=instance_id, TypeName=type_name,
                                          **({"NextToken": token} if token else {}))
        found += page["Entries"]
        token = page.get("NextToken")
        if not token:
            return found


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_inventory_association_gathers_what_dpkg_lists_and_watches_a_file(
        server: ServerProcess, node: AgentProcess, tmp_path: Path) -> None:
    watched = tmp_path / "etc-app"
    watched.mkdir()
    config = watched / "app.conf"
    config.write_text("listen 80\n")
    files = json.dumps([{"Path": str(watched), "Pattern": ["*.conf"], "Recursive": False}])
    server.aws("ssm", "add-tags-to-resource", "--resource-type", "ManagedInstance", "--resource-id",
               node.instance_id, "--tags", "Key=Team,Value=web")
    before = dt.datetime.now(dt.UTC)
    created = server.aws_json(
        "ssm", "create-association", "--name", "AWS-GatherSoftwareInventory", "--association-name", "Inventory",
        "--targets", f"Key=InstanceIds,Values={node.instance_id}", "--schedule-expression", "rate(30 minutes)",
        "--parameters", json.dumps({"applications": ["Enabled"], "files": [files]}))["AssociationDescription"]
    association = created["AssociationId"]
    assert association_status(server, association, node.instance_id, before)["Status"] == "Success"

    dpkg = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"], capture_output=True, text=True,
                          check=True).stdout
    listed = {tuple(line.split("\t")) for line in dpkg.splitlines()}
    assert {(e["Name"], e["Version"]) for e in entries(server, node.instance_id, "AWS:Application")} == listed
    [file_entry] = entries(server, node.instance_id, "AWS:File")
    assert file_entry["Name"] == "app.conf" and file_entry["Description"] == f"sha256:{sha256_of(config)}"
    assert entries(server, node.instance_id, "AWS:Tag") == [{"Key": "Team", "Value": "web"}]
    assert entries(server, node.instance_id, "AWS:Network") and entries(server, node.instance_id,
                                                                        "AWS:InstanceDetailedInformation")

    config.write_text("listen 8080\n")  # a change the next run must see
    again = dt.datetime.now(dt.UTC)
    server.aws("ssm", "start-associations-once", "--association-ids", association)
    assert association_status(server, association, node.instance_id, again)["Status"] == "Success"
    [file_entry] = entries(server, node.instance_id, "AWS:File")
    assert file_entry["Description"] == f"sha256:{sha256_of(config)}"


def test_an_association_keeps_a_file_in_place_and_reports_compliance(
        server: ServerProcess, node: AgentProcess, tmp_path: Path) -> None:
    kept = tmp_path / "kept.txt"
    ssm = server.client("ssm")
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id,
                             Tags=[{"Key": "Role", "Value": "keeper"}])
    before = dt.datetime.now(dt.UTC)
    association = ssm.create_association(
        Name="AWS-RunShellScript", AssociationName="KeepFile", Targets=[{"Key": "tag:Role", "Values": ["keeper"]}],
        Parameters={"commands": [f"test -f {kept} || echo kept > {kept}"]}, ScheduleExpression="rate(30 minutes)",
        ComplianceSeverity="HIGH", SyncCompliance="AUTO")["AssociationDescription"]["AssociationId"]
    assert association_status(server, association, node.instance_id, before)["Status"] == "Success"
    assert kept.read_text() == "kept\n"
    [item] = ssm.list_compliance_items(ResourceIds=[node.instance_id], Filters=[
        {"Key": "ComplianceType", "Values": ["Association"]}, {"Key": "Id", "Values": [association]}])[
        "ComplianceItems"]
    assert item["Status"] == "COMPLIANT" and item["Severity"] == "HIGH"

    kept.unlink()
    again = dt.datetime.now(dt.UTC)
    ssm.start_associations_once(AssociationIds=[association])
    association_status(server, association, node.instance_id, again)
    assert kept.read_text() == "kept\n"

    failing = ssm.create_association(
        Name="AWS-RunShellScript", AssociationName="AlwaysFails", Targets=[{"Key": "InstanceIds",
                                                                           "Values": [node.instance_id]}],
        Parameters={"commands": ["exit 3"]}, ComplianceSeverity="CRITICAL")["AssociationDescription"]["AssociationId"]
    assert association_status(server, failing, node.instance_id, again)["Status"] == "Failed"
    [item] = ssm.list_compliance_items(ResourceIds=[node.instance_id], Filters=[
        {"Key": "ComplianceType", "Values": ["Association"]}, {"Key": "Id", "Values": [failing]}])["ComplianceItems"]
    assert item["Status"] == "NON_COMPLIANT" and item["Severity"] == "CRITICAL"


def test_inventory_is_aggregated_across_nodes(server: ServerProcess, node: AgentProcess, tmp_path: Path) -> None:
    second = start_node(server, tmp_path / "second")
    try:
        before = dt.datetime.now(dt.UTC)
        association = server.client("ssm").create_association(
            Name="AWS-GatherSoftwareInventory", Targets=[{"Key": "InstanceIds", "Values": [
                node.instance_id, second.instance_id]}], ScheduleExpression="rate(1 day)")[
            "AssociationDescription"]["AssociationId"]
        for each in (node, second):
            association_status(server, association, each.instance_id, before)
        both = [node.instance_id, second.instance_id]
        found = server.client("ssm").get_inventory(
            Filters=[{"Key": "AWS:InstanceInformation.InstanceId", "Values": both, "Type": "Equal"}],
            Aggregators=[{"Expression": "AWS:Application.Name"}])
        counts = {row["Name"]: int(row["Count"]) for entity in found["Entities"]
                  for row in entity["Data"]["AWS:Application"]["Content"]}
        assert counts and counts.get("dpkg") == 2  # every package on this machine, counted on both nodes
    finally:
        second.stop()
