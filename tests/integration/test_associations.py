"""State Manager through a real server, driven by boto3 and the aws CLI: associations, their versions and runs,
a node's side of a run as AWS's agent makes it (ListInstanceAssociations, UpdateInstanceAssociationStatus,
signed with the node's own credentials), compliance, and AWS's errors for bad requests.

The last test runs an association on a real `openssm agent` end to end; it needs the agent's
aws:refreshAssociation plugin."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.agents import AgentProcess, node_role
from tests.support.iam import allow, user_with_policy
from tests.support.node_client import Node
from tests.support.server import ServerProcess

SCRIPT = {"Name": "AWS-RunShellScript", "Parameters": {"commands": ["echo hi"]}}


def enrolled(server: ServerProcess, **tags: str) -> Node:
    """A hybrid node enrolled as AWS's agent enrols, online (it has sent a heartbeat), with tags."""
    created = server.client("ssm").create_activation(IamRole=node_role(server))
    node = Node(server).enrol(created["ActivationId"], created["ActivationCode"])
    assert node.heartbeat().status == 200
    assert node.instance_id is not None
    if tags:
        server.client("ssm").add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id,
                                                  Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return node


def suite() -> str:
    return uuid.uuid4().hex[:12]


def targets(mark: str) -> list[dict[str, Any]]:
    return [{"Key": "tag:suite", "Values": [mark]}]


def error(call: Any, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kw)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_an_association_runs_on_its_node_and_reports_back_as_awss_agent_does(server: ServerProcess) -> None:
    ssm, mark = server.client("ssm"), suite()
    node = enrolled(server, suite=mark)
    created = ssm.create_association(**SCRIPT, Targets=targets(mark), AssociationName=f"setup-{mark}",
                                     ComplianceSeverity="HIGH")["AssociationDescription"]
    association_id = created["AssociationId"]
    assert (created["AssociationVersion"], created["DocumentVersion"], created["Overview"]["Status"]) == (
        "1", "$DEFAULT", "Pending")
    assert created["Targets"] == targets(mark) and created["Parameters"] == {"commands": ["echo hi"]}

    (execution,) = ssm.describe_association_executions(AssociationId=association_id)["AssociationExecutions"]
    assert (execution["Status"], execution["ResourceCountByStatus"]) == ("InProgress", "{InProgress=1}")
    (target,) = ssm.describe_association_execution_targets(
        AssociationId=association_id, ExecutionId=execution["ExecutionId"])["AssociationExecutionTargets"]
    assert (target["ResourceId"], target["ResourceType"], target["Status"]) == (
        node.instance_id, "ManagedInstance", "InProgress")
    command_id = target["OutputSource"]["OutputSourceId"]
    assert target["OutputSource"]["OutputSourceType"] == "RunCommand"
    (command,) = ssm.list_commands(CommandId=command_id)["Commands"]
    assert (command["DocumentName"], command["InstanceIds"], command["Parameters"]) == (
        "AWS-RefreshAssociation", [node.instance_id], {"associationIds": [association_id]})

    listed = node.call("AmazonSSM.ListInstanceAssociations", {"InstanceId": node.instance_id, "MaxResults": 20})
    assert listed.status == 200
    (summary,) = listed.json()["Associations"]
    assert (summary["AssociationId"], summary["Name"], summary["DocumentVersion"], summary["DetailedStatus"]) == (
        association_id, "AWS-RunShellScript", "1", "Pending")
    assert summary["Parameters"] == {"commands": ["echo hi"]} and "ScheduleExpression" not in summary
    assert '"runtimeConfig"' in summary["Content"] and summary["AssociationName"] == f"setup-{mark}"

    for status in ("InProgress", "Success"):
        reported = node.call("AmazonSSM.UpdateInstanceAssociationStatus", {
            "AssociationId": association_id, "InstanceId": node.instance_id, "ExecutionResult": {
                "Status": status, "ErrorCode": "", "ExecutionDate": time.time(),
                "ExecutionSummary": "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. "}})
        assert reported.status == 200, reported.body
    assert node.call("AmazonSSM.ListInstanceAssociations", {"InstanceId": node.instance_id}).json()[
        "Associations"] == []

    (info,) = ssm.describe_instance_associations_status(InstanceId=node.instance_id)["InstanceAssociationStatusInfos"]
    assert (info["AssociationId"], info["Name"], info["Status"], info["AssociationVersion"]) == (
        association_id, "AWS-RunShellScript", "Success", "1")
    assert info["ExecutionSummary"].startswith("1 out of 1 plugin processed")
    described = ssm.describe_association(AssociationId=association_id)["AssociationDescription"]
    assert described["Overview"] == {"Status": "Success", "DetailedStatus": "Success",
                                     "AssociationStatusAggregatedCount": {"Success": 1}}
    assert "LastExecutionDate" in described and "LastSuccessfulExecutionDate" in described
    (execution,) = ssm.describe_association_executions(AssociationId=association_id)["AssociationExecutions"]
    assert (execution["Status"], execution["ResourceCountByStatus"]) == ("Success", "{Success=1}")
    (item,) = ssm.list_compliance_items(ResourceIds=[node.instance_id], ResourceTypes=["ManagedInstance"],
                                        Filters=[{"Key": "ComplianceType", "Values": ["Association"],
                                                  "Type": "EQUAL"}])["ComplianceItems"]
    assert (item["Id"], item["Status"], item["Severity"]) == (association_id, "COMPLIANT", "HIGH")


def test_only_the_node_itself_may_list_or_report_its_associations(server: ServerProcess) -> None:
    mark = suite()
    node, other = enrolled(server, suite=mark), enrolled(server)
    association_id = server.client("ssm").create_association(**SCRIPT, Targets=targets(mark))[
        "AssociationDescription"]["AssociationId"]
    refused = other.call("AmazonSSM.ListInstanceAssociations", {"InstanceId": node.instance_id})
    assert (refused.status, refused.json()["__type"]) == (400, "AccessDeniedException")
    body = {"AssociationId": association_id, "InstanceId": node.instance_id,
            "ExecutionResult": {"Status": "Success", "ExecutionDate": time.time(), "ExecutionSummary": "x"}}
    assert other.call("AmazonSSM.UpdateInstanceAssociationStatus", body).json()["__type"] == "AccessDeniedException"
    assert node.call("AmazonSSM.UpdateInstanceAssociationStatus", body).status == 200
    unknown = {**body, "AssociationId": str(uuid.uuid4())}
    assert node.call("AmazonSSM.UpdateInstanceAssociationStatus", unknown).json()["__type"] == \
        "AssociationDoesNotExist"


def test_bad_associations_get_awss_error_codes(server: ServerProcess) -> None:
    ssm, mark = server.client("ssm"), suite()
    create = ssm.create_association
    assert error(create, **SCRIPT, Targets=targets(mark), ScheduleExpression="rate(5 minutes)")[0] == \
        "InvalidSchedule"
    code, message = error(create, **SCRIPT, Targets=targets(mark), ScheduleExpression="cron(0 0 1 JAN ? *)")
    assert code == "InvalidSchedule" and "cron(0 0 1 JAN ? *)" in message
    assert error(create, Name="No-Such-Doc", Targets=targets(mark)) == (
        "InvalidDocument", "Document with name No-Such-Doc does not exist.")
    assert error(create, Name="AWS-StartPortForwardingSession", Targets=targets(mark))[0] == "InvalidDocument"
    assert error(create, **SCRIPT, Targets=targets(mark), AutomationTargetParameterName="InstanceId")[0] == \
        "InvalidDocument"
    assert error(create, **SCRIPT, Targets=[{"Key": "PlatformTypes", "Values": ["Linux"]}])[0] == "InvalidTarget"
    assert error(create, **SCRIPT)[0] == "InvalidTarget"
    assert error(create, Name="AWS-RunShellScript", Parameters={"commandz": ["x"]}, Targets=targets(mark)) == (
        "InvalidParameters", "document AWS-RunShellScript does not support parameters.")
    assert error(create, **SCRIPT, Targets=targets(mark), MaxConcurrency="0")[0] == "ValidationException"
    assert error(create, **SCRIPT, Targets=targets(mark), AssociationName="a b")[0] == "ValidationException"
    assert error(create, **SCRIPT, Targets=targets(mark), CalendarNames=["c"])[0] == "ValidationException"
    assert error(create, **SCRIPT, Targets=targets(mark),
                 OutputLocation={"S3Location": {"OutputS3BucketName": "Not_A_Bucket"}})[0] == "InvalidOutputLocation"
    assert error(create, **SCRIPT, InstanceId="mi-0123456789abcdef0")[0] == "InvalidInstanceId"
    missing = str(uuid.uuid4())
    assert error(ssm.describe_association, AssociationId=missing) == (
        "AssociationDoesNotExist", "The specified association doesn't exist.")
    assert error(ssm.delete_association, AssociationId=missing)[0] == "AssociationDoesNotExist"
    assert error(ssm.start_associations_once, AssociationIds=[missing])[0] == "AssociationDoesNotExist"
    assert error(ssm.describe_association_executions, AssociationId=missing)[0] == "AssociationDoesNotExist"
    assert ssm.list_associations(AssociationFilterList=[{"key": "AssociationName", "value": f"x-{mark}"}])[
        "Associations"] == []


def test_creating_in_a_batch_reports_each_refused_entry(server: ServerProcess) -> None:
    mark = suite()
    answer = server.client("ssm").create_association_batch(Entries=[
        {**SCRIPT, "Targets": targets(mark), "AssociationName": f"good-{mark}"},
        {"Name": "No-Such-Doc", "Targets": targets(mark)},
        {**SCRIPT, "Targets": targets(mark), "ScheduleExpression": "rate(1 minute)"}])
    assert [d["AssociationName"] for d in answer["Successful"]] == [f"good-{mark}"]
    assert [(f["Entry"]["Name"], f["Fault"]) for f in answer["Failed"]] == [
        ("No-Such-Doc", "Client"), ("AWS-RunShellScript", "Client")]
    assert answer["Failed"][0]["Message"] == "Document with name No-Such-Doc does not exist."


def test_updates_make_versions_and_reset_what_they_leave_out_as_aws_documents(server: ServerProcess) -> None:
    ssm, mark = server.client("ssm"), suite()
    association_id = ssm.create_association(**SCRIPT, Targets=targets(mark), ScheduleExpression="rate(1 day)",
                                            AssociationName=f"first-{mark}")["AssociationDescription"][
        "AssociationId"]
    updated = ssm.update_association(AssociationId=association_id, AssociationVersion="1",
                                     Parameters={"commands": ["echo two"]},
                                     AssociationName=f"second-{mark}")["AssociationDescription"]
    assert (updated["AssociationVersion"], updated["Name"], updated["Targets"]) == ("2", "AWS-RunShellScript",
                                                                                    targets(mark))
    assert "ScheduleExpression" not in updated  # "overwrites the association with null values"
    assert error(ssm.update_association, AssociationId=association_id, AssociationVersion="1",
                 Parameters={"commands": ["x"]})[0] == "InvalidAssociationVersion"
    versions = ssm.list_association_versions(AssociationId=association_id)["AssociationVersions"]
    assert [(v["AssociationVersion"], v["AssociationName"]) for v in versions] == [
        ("1", f"first-{mark}"), ("2", f"second-{mark}")]
    assert versions[0]["ScheduleExpression"] == "rate(1 day)"
    old = ssm.describe_association(AssociationId=association_id, AssociationVersion="1")["AssociationDescription"]
    assert old["Parameters"] == {"commands": ["echo hi"]}
    ssm.delete_association(AssociationId=association_id)
    assert error(ssm.describe_association, AssociationId=association_id)[0] == "AssociationDoesNotExist"


def test_listing_pages_and_filters(server: ServerProcess) -> None:
    ssm, mark = server.client("ssm"), suite()
    ids = [ssm.create_association(**SCRIPT, Targets=targets(mark), AssociationName=f"page-{mark}")[
        "AssociationDescription"]["AssociationId"] for _ in range(3)]
    wanted = [{"key": "AssociationName", "value": f"page-{mark}"}]
    first = ssm.list_associations(AssociationFilterList=wanted, MaxResults=2)
    rest = ssm.list_associations(AssociationFilterList=wanted, MaxResults=2, NextToken=first["NextToken"])
    assert [a["AssociationId"] for a in first["Associations"] + rest["Associations"]] == ids
    assert "NextToken" not in rest
    paged = ssm.get_paginator("list_associations").paginate(AssociationFilterList=wanted,
                                                            PaginationConfig={"PageSize": 1})
    assert sum(len(p["Associations"]) for p in paged) == 3
    assert error(ssm.list_associations, NextToken="garbage")[0] == "InvalidNextToken"


def test_runs_on_demand_with_execution_filters(server: ServerProcess) -> None:
    ssm, mark = server.client("ssm"), suite()
    enrolled(server, suite=mark)
    association_id = ssm.create_association(**SCRIPT, Targets=targets(mark))["AssociationDescription"][
        "AssociationId"]
    ssm.start_associations_once(AssociationIds=[association_id])
    runs = ssm.describe_association_executions(AssociationId=association_id)["AssociationExecutions"]
    assert len(runs) == 2
    newest = runs[0]["ExecutionId"]
    by_id = ssm.describe_association_executions(AssociationId=association_id, Filters=[
        {"Key": "ExecutionId", "Value": newest, "Type": "EQUAL"}])["AssociationExecutions"]
    assert [e["ExecutionId"] for e in by_id] == [newest]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(ssm.describe_association_executions(AssociationId=association_id, Filters=[
        {"Key": "CreatedTime", "Value": future, "Type": "LESS_THAN"}])["AssociationExecutions"]) == 2
    assert error(ssm.describe_association_executions, AssociationId=association_id, Filters=[
        {"Key": "ExecutionId", "Value": newest, "Type": "LESS_THAN"}])[0] == "ValidationException"
    assert error(ssm.describe_association_execution_targets, AssociationId=association_id,
                 ExecutionId=str(uuid.uuid4()))[0] == "AssociationExecutionDoesNotExist"
    found = ssm.describe_association_execution_targets(AssociationId=association_id, ExecutionId=newest,
                                                       Filters=[{"Key": "Status", "Value": "InProgress"}])
    assert len(found["AssociationExecutionTargets"]) == 1


def test_a_node_tagged_later_gets_the_association(server: ServerProcess) -> None:
    ssm, mark = server.client("ssm"), suite()
    association_id = ssm.create_association(**SCRIPT, Targets=targets(mark))["AssociationDescription"][
        "AssociationId"]
    assert ssm.describe_association_executions(AssociationId=association_id)["AssociationExecutions"] == []
    node = enrolled(server, suite=mark)
    deadline = time.monotonic() + 60
    while not ssm.describe_association_executions(AssociationId=association_id)["AssociationExecutions"]:
        assert time.monotonic() < deadline, "the node that joined the targets was not given the association"
        time.sleep(0.5)
    effective = ssm.describe_effective_instance_associations(InstanceId=node.instance_id)["Associations"]
    assert [a["AssociationId"] for a in effective] == [association_id] and '"runtimeConfig"' in effective[0][
        "Content"]


def test_iam_decides_on_the_association_arn_and_update_needs_describe(server: ServerProcess) -> None:
    ssm, mark = server.client("ssm"), suite()
    association_id = ssm.create_association(**SCRIPT, Targets=targets(mark))["AssociationDescription"][
        "AssociationId"]
    arn = f"arn:aws:ssm:{server.region}:123456789012:association/{association_id}"
    _, creds = user_with_policy(server, allow(["ssm:UpdateAssociation", "ssm:DescribeAssociation"], arn))
    mine = server.client("ssm", creds)
    assert mine.describe_association(AssociationId=association_id)["AssociationDescription"]["AssociationId"] == \
        association_id
    assert error(mine.describe_association, AssociationId=str(uuid.uuid4()))[0] == "AccessDeniedException"
    _, update_only = user_with_policy(server, allow("ssm:UpdateAssociation"))
    code, message = error(server.client("ssm", update_only).update_association, AssociationId=association_id,
                          Parameters={"commands": ["x"]})
    assert code == "AccessDeniedException" and "ssm:DescribeAssociation" in message


def test_the_aws_cli_creates_and_lists_associations(server: ServerProcess) -> None:
    mark = suite()
    created = server.aws_json("ssm", "create-association", "--name", "AWS-RunShellScript", "--targets",
                              f"Key=tag:suite,Values={mark}", "--parameters", "commands=uptime",
                              "--association-name", f"cli-{mark}", "--schedule-expression", "rate(30 minutes)")
    association_id = created["AssociationDescription"]["AssociationId"]
    listed = server.aws_json("ssm", "list-associations", "--association-filter-list",
                             f"key=AssociationName,value=cli-{mark}")
    assert [a["AssociationId"] for a in listed["Associations"]] == [association_id]
    assert listed["Associations"][0]["ScheduleExpression"] == "rate(30 minutes)"


def test_an_association_runs_a_script_on_a_real_agent(server: ServerProcess, agent: AgentProcess,
                                                      tmp_path: Path) -> None:
    """End to end; needs the agent's aws:refreshAssociation plugin (agent/plugins/refresh_association.py)."""
    ssm, mark = server.client("ssm"), suite()
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=agent.instance_id,
                             Tags=[{"Key": "suite", "Value": mark}])
    marker = tmp_path / "applied"
    association_id = ssm.create_association(Name="AWS-RunShellScript", Targets=targets(mark), Parameters={
        "commands": [f"echo applied > {marker}"]})["AssociationDescription"]["AssociationId"]
    deadline = time.monotonic() + 90
    while True:
        infos = ssm.describe_instance_associations_status(InstanceId=agent.instance_id)[
            "InstanceAssociationStatusInfos"]
        status = next((i["Status"] for i in infos if i["AssociationId"] == association_id), "Pending")
        if status not in ("Pending", "InProgress"):
            break
        assert time.monotonic() < deadline, f"the association is still {status} on the node"
        time.sleep(0.5)
    assert status == "Success" and marker.read_text() == "applied\n"
    (item,) = [i for i in ssm.list_compliance_items(ResourceIds=[agent.instance_id],
                                                    ResourceTypes=["ManagedInstance"])["ComplianceItems"]
               if i["Id"] == association_id]
    assert (item["ComplianceType"], item["Status"]) == ("Association", "COMPLIANT")
