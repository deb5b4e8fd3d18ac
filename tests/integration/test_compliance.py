"""Compliance through a real server: custom compliance on a real node with the aws CLI and boto3, the
summaries, and bad input answered with AWS's errors."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.exceptions import ClientError

from tests.support.agents import AgentProcess
from tests.support.server import ServerProcess


def test_custom_compliance_is_listed_and_summarized(server: ServerProcess, agent: AgentProcess) -> None:
    node = agent.instance_id
    server.aws("ssm", "put-compliance-items", "--resource-id", node, "--resource-type", "ManagedInstance",
               "--compliance-type", "Custom:AVCheck", "--execution-summary", "ExecutionTime=1700000000",
               "--items", "Id=Version2.0,Title=ScanHost,Severity=CRITICAL,Status=COMPLIANT",
               "Id=Version1.0,Title=OldScan,Severity=HIGH,Status=NON_COMPLIANT,Details={Reason=outdated}")
    ssm = server.client("ssm")
    items = ssm.list_compliance_items(ResourceIds=[node], ResourceTypes=["ManagedInstance"],
                                      Filters=[{"Key": "ComplianceType", "Values": ["Custom:AVCheck"]}])
    by_id = {i["Id"]: i for i in items["ComplianceItems"]}
    assert by_id["Version1.0"]["Status"] == "NON_COMPLIANT" and by_id["Version1.0"]["Details"] == {
        "Reason": "outdated"}
    assert by_id["Version2.0"]["ExecutionSummary"]["ExecutionTime"] == dt.datetime(2023, 11, 14, 22, 13, 20,
                                                                                   tzinfo=dt.UTC)

    [resource] = [r for r in ssm.list_resource_compliance_summaries(
        Filters=[{"Key": "ComplianceType", "Values": ["Custom:AVCheck"]}])["ResourceComplianceSummaryItems"]
        if r["ResourceId"] == node]
    assert resource["Status"] == "NON_COMPLIANT" and resource["OverallSeverity"] == "HIGH"
    assert resource["CompliantSummary"]["SeveritySummary"]["CriticalCount"] == 1
    [summary] = [s for s in ssm.list_compliance_summaries()["ComplianceSummaryItems"]
                 if s["ComplianceType"] == "Custom:AVCheck"]
    assert summary["NonCompliantSummary"]["NonCompliantCount"] >= 1

    ssm.put_compliance_items(ResourceId=node, ResourceType="ManagedInstance", ComplianceType="Custom:AVCheck",
                             ExecutionSummary={"ExecutionTime": dt.datetime.now(dt.UTC)}, UploadType="PARTIAL",
                             Items=[{"Id": "Version1.0", "Severity": "HIGH", "Status": "COMPLIANT"}])
    [resource] = [r for r in ssm.list_resource_compliance_summaries(
        Filters=[{"Key": "ResourceId", "Values": [node]}, {"Key": "ComplianceType", "Values": ["Custom:AVCheck"]}]
    )["ResourceComplianceSummaryItems"]]
    assert resource["Status"] == "COMPLIANT"


@pytest.mark.parametrize(("change", "code"), [
    ({"ResourceType": "EC2Instance"}, "InvalidResourceType"),
    ({"ResourceId": "mi-00000000000000000"}, "InvalidResourceId"),
    ({"UploadType": "PARTIAL", "Items": [{"Severity": "LOW", "Status": "COMPLIANT"}]}, "InvalidItemContentException"),
    ({"ComplianceType": "Custom:bad type!"}, "ValidationException"),
])
def test_bad_uploads_get_aws_errors(server: ServerProcess, agent: AgentProcess, change: dict[str, object],
                                    code: str) -> None:
    request: dict[str, object] = {"ResourceId": agent.instance_id, "ResourceType": "ManagedInstance",
                                  "ComplianceType": "Custom:Errors", "ExecutionSummary": {
                                      "ExecutionTime": dt.datetime.now(dt.UTC)},
                                  "Items": [{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}], **change}
    with pytest.raises(ClientError) as refused:
        server.client("ssm").put_compliance_items(**request)
    assert refused.value.response["Error"]["Code"] == code


def test_unknown_filter_keys_are_refused(server: ServerProcess) -> None:
    with pytest.raises(ClientError) as refused:
        server.client("ssm").list_compliance_items(Filters=[{"Key": "Colour", "Values": ["red"]}])
    assert refused.value.response["Error"]["Code"] == "InvalidFilter"
