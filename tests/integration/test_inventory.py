"""Inventory through a real server: nodes report with their own credentials (and only for themselves), an IAM
principal allowed ssm:PutInventory reports for any node, and boto3 and the aws CLI query, aggregate, list, delete
and describe; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.agents import node_role
from tests.support.iam import allow, user_with_policy
from tests.support.node_client import Node
from tests.support.server import ServerProcess

CAPTURED = "2026-12-06T10:00:00Z"


def enrol(server: ServerProcess, *platforms: str) -> list[Node]:
    created = server.client("ssm").create_activation(IamRole=node_role(server, "InventoryNodes"),
                                                     RegistrationLimit=len(platforms))
    nodes = []
    for platform in platforms:
        node = Node(server).enrol(created["ActivationId"], created["ActivationCode"])
        assert node.call("AmazonSSM.UpdateInstanceInformation", {
            "InstanceId": node.instance_id, "AgentName": "amazon-ssm-agent", "AgentVersion": "3.3.0.0",
            "PlatformType": platform, "PlatformName": f"{platform} OS", "PlatformVersion": "1"}).status == 200
        nodes.append(node)
    return nodes


def applications(*names: str, **extra: str) -> dict[str, Any]:
    content = [{"Name": n, "Version": "1.0", "Publisher": "Example", **extra} for n in names]
    return {"TypeName": "AWS:Application", "SchemaVersion": "1.1", "CaptureTime": CAPTURED, "Content": content}


def as_node(server: ServerProcess, node: Node) -> Any:
    return server.client("ssm", node.creds)


def code_of(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_nodes_report_their_own_inventory_and_queries_aggregate_across_them(server: ServerProcess) -> None:
    tag = uuid.uuid4().hex[:8]
    web, db, win = enrol(server, "Linux", "Linux", "Windows")
    nginx, bash, agent = f"nginx-{tag}", f"bash-{tag}", f"agent-{tag}"
    as_node(server, web).put_inventory(InstanceId=web.instance_id, Items=[
        applications(nginx, bash), {"TypeName": f"Custom:Rack{tag}", "SchemaVersion": "1.0", "CaptureTime": CAPTURED,
                                    "Content": [{"Location": "B1"}]}])
    as_node(server, db).put_inventory(InstanceId=db.instance_id, Items=[applications(bash, f"{bash}-doc")])
    as_node(server, win).put_inventory(InstanceId=win.instance_id, Items=[applications(agent)])
    ssm = server.client("ssm")

    found = ssm.get_inventory(Filters=[{"Key": "AWS:Application.Name", "Values": [bash], "Type": "Equal"}])
    assert sorted(e["Id"] for e in found["Entities"]) == sorted([web.instance_id, db.instance_id])
    info = found["Entities"][0]["Data"]["AWS:InstanceInformation"]
    assert info["TypeName"] == "AWS:InstanceInformation" and info["Content"][0]["PlatformType"] == "Linux"
    begins = ssm.get_paginator("get_inventory").paginate(
        Filters=[{"Key": "AWS:Application.Name", "Values": [f"bash-{tag}-"], "Type": "BeginWith"}],
        PaginationConfig={"PageSize": 1})
    assert [e["Id"] for page in begins for e in page["Entities"]] == [db.instance_id]

    one = ssm.get_inventory(Filters=[{"Key": "AWS:InstanceInformation.InstanceId", "Values": [web.instance_id]}],
                            ResultAttributes=[{"TypeName": "AWS:Application"}])["Entities"]
    (item,) = one[0]["Data"].values()
    assert [c["Name"] for c in item["Content"]] == [nginx, bash] and item["SchemaVersion"] == "1.1"

    counts = ssm.get_inventory(Aggregators=[{"Expression": "AWS:Application.Name"}])["Entities"][0]["Data"]
    mine = {r["Name"]: r["Count"] for r in counts["AWS:Application"]["Content"] if tag in r["Name"]}
    assert mine == {bash: "2", nginx: "1", f"{bash}-doc": "1", agent: "1"}
    platforms = ssm.get_inventory(
        Filters=[{"Key": "AWS:Application.Name", "Values": [bash, agent]}],
        Aggregators=[{"Expression": "AWS:InstanceInformation.PlatformType"}])["Entities"][0]["Data"]
    assert platforms["AWS:InstanceInformation"]["Content"] == [{"PlatformType": "Linux", "Count": "2"},
                                                              {"PlatformType": "Windows", "Count": "1"}]
    groups = ssm.get_inventory(
        Filters=[{"Key": "AWS:Application.Name", "Values": [bash, agent]}],
        Aggregators=[{"Groups": [{"Name": "Racked", "Filters": [
            {"Key": "TypeName", "Values": [f"Custom:Rack{tag}"], "Type": "Exists"}]}]}])["Entities"][0]["Data"]
    assert groups == {"Racked": {"Content": [{"notMatchingCount": "2"}, {"matchingCount": "1"}]}}

    entries = ssm.list_inventory_entries(InstanceId=web.instance_id, TypeName="AWS:Application",
                                         Filters=[{"Key": "Name", "Values": ["nginx"], "Type": "BeginWith"}])
    assert [e["Name"] for e in entries["Entries"]] == [nginx] and entries["CaptureTime"] == CAPTURED
    schema = ssm.get_inventory_schema(TypeName=f"Custom:Rack{tag}")["Schemas"]
    assert schema == [{"TypeName": f"Custom:Rack{tag}", "Version": "1.0",
                       "Attributes": [{"Name": "Location", "DataType": "STRING"}]}]


def test_a_node_reports_only_for_itself_and_a_principal_needs_ssm_put_inventory(server: ServerProcess) -> None:
    mine, other = enrol(server, "Linux", "Linux")
    with pytest.raises(ClientError) as err:
        as_node(server, mine).put_inventory(InstanceId=other.instance_id, Items=[applications("x")])
    assert code_of(err) == "AccessDeniedException" and "only its own inventory" in str(err.value)
    _, allowed = user_with_policy(server, allow("ssm:PutInventory"))
    server.client("ssm", allowed).put_inventory(InstanceId=other.instance_id, Items=[applications("from-admin")])
    _, denied = user_with_policy(server, allow("ssm:GetInventory"))
    with pytest.raises(ClientError) as err:
        server.client("ssm", denied).put_inventory(InstanceId=other.instance_id, Items=[applications("x")])
    assert code_of(err) == "AccessDeniedException"
    with pytest.raises(ClientError) as err:
        server.client("ssm").put_inventory(InstanceId="mi-00000000000000000", Items=[applications("x")])
    assert code_of(err) == "InvalidInstanceId"


def test_an_unchanged_hash_skips_the_content_and_a_stale_one_asks_for_it(server: ServerProcess) -> None:
    (node,) = enrol(server, "Linux")
    ssm = as_node(server, node)
    ssm.put_inventory(InstanceId=node.instance_id, Items=[{**applications("vim"), "ContentHash": "h1"}])
    hash_only = {k: v for k, v in applications().items() if k != "Content"}
    ssm.put_inventory(InstanceId=node.instance_id, Items=[{**hash_only, "ContentHash": "h1",
                                                           "CaptureTime": "2026-12-06T11:00:00Z"}])
    entries = server.client("ssm").list_inventory_entries(InstanceId=node.instance_id, TypeName="AWS:Application")
    assert [e["Name"] for e in entries["Entries"]] == ["vim"] and entries["CaptureTime"] == "2026-12-06T11:00:00Z"
    with pytest.raises(ClientError) as err:  # AWS's agent then sends the whole item again
        ssm.put_inventory(InstanceId=node.instance_id, Items=[{**hash_only, "ContentHash": "h2"}])
    assert code_of(err) == "ItemContentMismatchException"


def test_bad_requests_get_awss_errors(server: ServerProcess) -> None:
    (node,) = enrol(server, "Linux")
    ssm = server.client("ssm")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("InvalidFilter", lambda: ssm.get_inventory(Filters=[{"Key": "AWS:Application.Colour", "Values": ["x"]}])),
        ("InvalidFilter", lambda: ssm.get_inventory(
            Filters=[{"Key": "AWS:Application.Name", "Values": ["x"], "Type": "Exists"}])),
        ("InvalidTypeNameException", lambda: ssm.get_inventory(Filters=[{"Key": "AWS:Nothing.Name",
                                                                         "Values": ["x"]}])),
        ("InvalidAggregatorException", lambda: ssm.get_inventory(Aggregators=[{"Expression": "AWS:Application.URL"}])),
        ("InvalidResultAttributeException", lambda: ssm.get_inventory(ResultAttributes=[{"TypeName": "AWS:Nothing"}])),
        ("InvalidTypeNameException", lambda: ssm.put_inventory(InstanceId=node.instance_id, Items=[
            {**applications("x"), "TypeName": "AWS:Nothing"}])),
        ("UnsupportedInventorySchemaVersionException", lambda: ssm.put_inventory(InstanceId=node.instance_id, Items=[
            {**applications("x"), "SchemaVersion": "9.0"}])),
        ("InvalidItemContentException", lambda: ssm.put_inventory(InstanceId=node.instance_id, Items=[
            applications("x", Colour="red")])),
        ("UnsupportedInventoryItemContextException", lambda: ssm.put_inventory(InstanceId=node.instance_id, Items=[
            {**applications("x"), "Context": {"ExecutionId": "1"}}])),
        ("ValidationException", lambda: ssm.put_inventory(InstanceId=node.instance_id, Items=[
            {**applications("x"), "TypeName": "Packages"}])),
        ("InvalidTypeNameException", lambda: ssm.delete_inventory(TypeName="AWS:Application")),
        ("InvalidDeletionIdException", lambda: ssm.describe_inventory_deletions(
            DeletionId=str(uuid.uuid4()))),
    ]
    for code, call in cases:
        with pytest.raises(ClientError) as err:
            call()
        assert code_of(err) == code, (code, err.value.response)


def test_the_aws_cli_puts_custom_inventory_and_deletes_it(server: ServerProcess) -> None:
    (node,) = enrol(server, "Linux")
    kind = f"Custom:Cli{uuid.uuid4().hex[:8]}"
    items = [{"TypeName": kind, "SchemaVersion": "1.0", "CaptureTime": CAPTURED,
              "Content": [{"RackLocation": "Bay B/Row C"}]}]
    server.aws("ssm", "put-inventory", "--instance-id", node.instance_id, "--items", json.dumps(items))
    listed = server.aws_json("ssm", "list-inventory-entries", "--instance-id", node.instance_id, "--type-name", kind)
    assert listed["Entries"] == [{"RackLocation": "Bay B/Row C"}] and listed["SchemaVersion"] == "1.0"
    dry = server.aws_json("ssm", "delete-inventory", "--type-name", kind, "--dry-run")
    assert "DeletionId" not in dry and dry["DeletionSummary"]["TotalCount"] == 1
    done = server.aws_json("ssm", "delete-inventory", "--type-name", kind, "--schema-delete-option", "DeleteSchema")
    assert done["DeletionSummary"] == {"TotalCount": 1, "RemainingCount": 1,
                                       "SummaryItems": [{"Version": "1.0", "Count": 1, "RemainingCount": 1}]}
    (status,) = server.aws_json("ssm", "describe-inventory-deletions", "--deletion-id",
                                done["DeletionId"])["InventoryDeletions"]
    assert (status["LastStatus"], status["LastStatusMessage"]) == ("Complete", "Deletion is successful")
    aggregated = server.aws_json("ssm", "get-inventory", "--aggregators",
                                 "Expression=AWS:InstanceInformation.PlatformType")
    assert aggregated["Entities"][0]["Data"]["AWS:InstanceInformation"]["Content"]


def test_inventory_on_postgresql(fresh_server: Callable[..., ServerProcess], postgres_url: str) -> None:
    server = fresh_server("--database-url", postgres_url)
    a, b = enrol(server, "Linux", "Windows")
    long_name = "z" * 250
    as_node(server, a).put_inventory(InstanceId=a.instance_id, Items=[applications("bash", long_name)])
    as_node(server, b).put_inventory(InstanceId=b.instance_id, Items=[applications("bash", Publisher="Other")])
    ssm = server.client("ssm")

    def ids(*filters: dict[str, Any]) -> list[str]:
        return sorted(e["Id"] for e in ssm.get_inventory(Filters=list(filters))["Entities"])

    assert ids({"Key": "AWS:Application.Name", "Values": ["ba"], "Type": "BeginWith"}) == sorted(
        [a.instance_id, b.instance_id])
    assert ids({"Key": "AWS:Application.Name", "Values": [long_name]}) == [a.instance_id]
    assert ids({"Key": "AWS:Application.Publisher", "Values": ["Other"]}) == [b.instance_id]
    counts = ssm.get_inventory(Aggregators=[{"Expression": "AWS:Application.Name", "Aggregators": [
        {"Expression": "AWS:InstanceInformation.PlatformType"}]}])["Entities"][0]["Data"]["AWS:Application"]
    assert counts["Content"] == [{"Name": "bash", "PlatformType": "Linux", "Count": "1"},
                                 {"Name": "bash", "PlatformType": "Windows", "Count": "1"},
                                 {"Name": long_name, "PlatformType": "Linux", "Count": "1"}]
    assert ssm.get_inventory(Aggregators=[{"Expression": "AWS:Application.Name"}])["Entities"][0]["Data"][
        "AWS:Application"]["Content"] == [{"Name": "bash", "Count": "2"}, {"Name": long_name, "Count": "1"}]
    ssm.put_inventory(InstanceId=a.instance_id, Items=[{"TypeName": "Custom:Rack", "SchemaVersion": "1.0",
                                                        "CaptureTime": CAPTURED, "Content": [{"Location": "B1"}]}])
    assert ssm.delete_inventory(TypeName="Custom:Rack")["DeletionSummary"]["TotalCount"] == 1
