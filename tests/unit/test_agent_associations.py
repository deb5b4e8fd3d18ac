"""aws:refreshAssociation lists the node's associations (ListInstanceAssociations, paged), fetches each
document (GetDocument), runs the chosen ones through the document machinery with their parameters, and
reports each to State Manager (UpdateInstanceAssociationStatus) with AWS's status, error code and summary;
the refresh step itself is Success, as AWS's is, with code 1 when something could not be done."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.associations import Associations, execution_summary, run_parameters
from openssm.agent.jobs import Jobs
from openssm.agent.plugins import refresh_association, software_inventory
from openssm.agent.plugins.refresh_association import RefreshAssociation
from openssm.agent.state import StateDir
from openssm.protocol.mgs import JobReply, PluginResult, send_command_payload
from openssm.services import documents
from tests.support.agent_stub import INSTANCE_ID, Call, StubAws
from tests.unit.test_agent_inventory_plugin import GATHER_SOFTWARE_INVENTORY
from tests.unit.test_agent_inventory_plugin import plugin as inventory_plugin
from tests.unit.test_agent_inventory_upload import call_for

NOW = dt.datetime(2026, 12, 6, 14, 21, 28, 123000, tzinfo=dt.UTC)
REFRESH_ASSOCIATION = {
    "schemaVersion": "2.0", "description": "State Manager Refresh Association",
    "parameters": {"associationIds": {"type": "StringList", "default": []}},
    "mainSteps": [{"action": "aws:refreshAssociation", "name": "refreshAssociation",
                   "inputs": {"associationIds": "{{ associationIds }}"}}],
}
RUN_SHELL_SCRIPT = documents.built_in("AWS-RunShellScript", "us-east-1").content


class Service:
    """State Manager's side: the node's associations, their documents, and the statuses reported."""

    def __init__(self, stub: StubAws, associations: list[dict[str, Any]], page: int = 1) -> None:
        self.associations, self.page = associations, page
        self.contents: dict[str, str] = {"AWS-RunShellScript": RUN_SHELL_SCRIPT,
                                         "AWS-GatherSoftwareInventory": json.dumps(GATHER_SOFTWARE_INVENTORY)}
        stub.answers["AmazonSSM.ListInstanceAssociations"] = self.list
        stub.answers["AmazonSSM.GetDocument"] = self.get_document
        self.stub = stub

    def list(self, call: Call) -> tuple[int, dict[str, Any]]:
        start = int(call.json().get("NextToken") or 0)
        answer: dict[str, Any] = {"Associations": self.associations[start:start + self.page]}
        if start + self.page < len(self.associations):
            answer["NextToken"] = str(start + self.page)
        return 200, answer

    def get_document(self, call: Call) -> tuple[int, dict[str, Any]]:
        name = call.json()["Name"]
        if name not in self.contents:
            return 400, {"__type": "InvalidDocument", "message": "Document not found"}
        return 200, {"Name": name, "DocumentVersion": call.json().get("DocumentVersion", "1"),
                     "Content": self.contents[name], "DocumentType": "Command", "DocumentFormat": "JSON"}

    def statuses(self) -> list[tuple[str, str, str, str]]:
        return [(body["AssociationId"], body["ExecutionResult"]["Status"], body["ExecutionResult"]["ErrorCode"],
                 body["ExecutionResult"]["ExecutionSummary"])
                for body in (c.json() for c in self.stub.calls if c.target == "AmazonSSM.UpdateInstanceAssociationStatus")]


def association(association_id: str, commands: list[str], name: str = "AWS-RunShellScript") -> dict[str, Any]:
    return {"AssociationId": association_id, "Name": name, "DocumentVersion": "1", "InstanceId": INSTANCE_ID,
            "AssociationVersion": "1", "Checksum": f"sum-{association_id}", "Parameters": {"commands": commands},
            "ScheduleExpression": "rate(30 minutes)", "DetailedStatus": "Success"}


@pytest.fixture
def stub() -> Iterator[StubAws]:
    with StubAws() as running:
        yield running


def refresh(stub: StubAws, tmp_path: Path, associations: Associations | None = None,
            ids: list[str] | None = None, job_id: str = "c-1") -> PluginResult:
    state = StateDir(tmp_path / "state")
    associations = associations or Associations(call_for(stub), INSTANCE_ID, state, clock=lambda: NOW)
    jobs = Jobs(state, plugins={refresh_association.NAME: RefreshAssociation(associations, clock=lambda: NOW)})
    reply: JobReply = jobs.run(job_id, send_command_payload(job_id, "AWS-RefreshAssociation", REFRESH_ASSOCIATION,
                                                             {"associationIds": ids or []}))
    assert reply.document_status == "Success"
    (result,) = reply.plugins
    return result


def test_refresh_runs_each_association_with_its_parameters_and_reports_awss_success(
        stub: StubAws, tmp_path: Path) -> None:
    service = Service(stub, [association("assoc-1", [f"echo one > {tmp_path}/one"]),
                             association("assoc-2", [f"echo $SSM_COMMAND_ID > {tmp_path}/two"])])
    result = refresh(stub, tmp_path)
    assert (result.status, result.code, result.standard_error) == ("Success", 0, "")
    assert result.standard_output == ("All associations have been requested to execute immediately\n"
                                      "assoc-1 (AWS-RunShellScript): Success\nassoc-2 (AWS-RunShellScript): Success")
    assert (tmp_path / "one").read_text() == "one\n" and (tmp_path / "two").read_text() == "assoc-2\n"
    summary = "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. "
    assert service.statuses() == [("assoc-1", "InProgress", "", "Executing association"),
                                  ("assoc-1", "Success", "", summary),
                                  ("assoc-2", "InProgress", "", "Executing association"),
                                  ("assoc-2", "Success", "", summary)]


def test_the_wire_requests_are_awss(stub: StubAws, tmp_path: Path) -> None:
    Service(stub, [association("assoc-1", ["true"]), association("assoc-2", ["true"])])
    refresh(stub, tmp_path, ids=["assoc-2"])
    bodies = {(c.target, c.body) for c in stub.calls}
    assert ("AmazonSSM.ListInstanceAssociations", b'{"InstanceId":"%s","MaxResults":20}' % INSTANCE_ID.encode()) in bodies
    assert ("AmazonSSM.ListInstanceAssociations",
            b'{"InstanceId":"%s","MaxResults":20,"NextToken":"1"}' % INSTANCE_ID.encode()) in bodies
    assert ("AmazonSSM.GetDocument", b'{"Name":"AWS-RunShellScript","DocumentVersion":"1"}') in bodies
    (update, _) = [c for c in stub.calls if c.target == "AmazonSSM.UpdateInstanceAssociationStatus"]
    assert update.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=ASIAINVENTORYTEST001/")
    assert update.json() == {"AssociationId": "assoc-2", "ExecutionResult": {
        "ErrorCode": "", "ExecutionDate": 1796566888.123, "ExecutionSummary": "Executing association",
        "Status": "InProgress"}, "InstanceId": INSTANCE_ID}


def test_only_the_requested_associations_run(stub: StubAws, tmp_path: Path) -> None:
    service = Service(stub, [association("assoc-1", ["true"]), association("assoc-2", ["true"])], page=5)
    result = refresh(stub, tmp_path, ids=["assoc-2", "assoc-9"])
    assert result.standard_output.splitlines()[0] == ("Associations [assoc-2 assoc-9] have been requested to execute "
                                                      "immediately")
    assert {status[0] for status in service.statuses()} == {"assoc-2"}


def test_a_failing_association_is_reported_failed_with_awss_summary_and_the_refresh_succeeds(
        stub: StubAws, tmp_path: Path) -> None:
    service = Service(stub, [association("assoc-1", ["echo boom >&2", "exit 3"])])
    result = refresh(stub, tmp_path)
    assert (result.status, result.code) == ("Success", 0)
    assert service.statuses()[-1] == (
        "assoc-1", "Failed", "ExecutionError", "1 out of 1 plugin processed, 0 success, 1 failed, 0 timedout, "
        "0 skipped. \nThe operation aws:runShellScript failed because boom\n.")


def test_a_document_that_cannot_be_fetched_is_reported_and_the_others_still_run(stub: StubAws, tmp_path: Path) -> None:
    service = Service(stub, [association("assoc-1", ["true"], name="Missing-Document"),
                             association("assoc-2", ["true"])])
    result = refresh(stub, tmp_path)
    assert (result.status, result.code) == ("Success", 1)
    message = ("Encountered error while loading association assoc-1 contents, InvalidDocument: Document not found")
    assert result.standard_error == message
    assert service.statuses()[0] == ("assoc-1", "Failed", "ListAssocError", message)
    assert service.statuses()[-1][:2] == ("assoc-2", "Success")


def test_a_document_that_cannot_be_read_is_reported_invalid_when_it_was_to_run(stub: StubAws, tmp_path: Path) -> None:
    service = Service(stub, [association("assoc-1", ["true"], name="Broken"), association("assoc-2", ["true"],
                                                                                          name="Broken")], page=5)
    service.contents["Broken"] = "[1, 2]"
    result = refresh(stub, tmp_path, ids=["assoc-1"])
    assert (result.status, result.code) == ("Success", 0)
    assert [s[:3] for s in service.statuses()] == [("assoc-1", "Failed", "InvalidAssoc")]
    assert service.statuses()[0][3].startswith("Encountered error while parsing association assoc-1, ")


def test_when_the_associations_cannot_be_listed_the_refresh_says_so_with_code_1(stub: StubAws, tmp_path: Path) -> None:
    stub.answers["AmazonSSM.ListInstanceAssociations"] = lambda call: (400, {"__type": "AccessDeniedException",
                                                                             "message": "no"})
    result = refresh(stub, tmp_path)
    assert (result.status, result.code, result.standard_error) == (
        "Success", 1, "failed to list instance associations, AccessDeniedException: no")


def test_the_inventory_association_uploads_and_a_second_one_fails_as_at_aws(stub: StubAws, tmp_path: Path) -> None:
    inventory = inventory_plugin(stub, tmp_path)
    gather = {**association("inv-1", []), "Name": "AWS-GatherSoftwareInventory",
              "Parameters": {"applications": ["Disabled"], "customInventory": ["Disabled"]}}
    service = Service(stub, [gather], page=5)
    associations = Associations(call_for(stub), INSTANCE_ID, StateDir(tmp_path / "state"),
                                {software_inventory.NAME: inventory}, clock=lambda: NOW)
    refresh(stub, tmp_path, associations)
    assert service.statuses()[-1] == ("inv-1", "Success", "",
                                      "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. ")
    (put,) = [c.json() for c in stub.calls if c.target == "AmazonSSM.PutInventory"]
    assert "AWS:Application" not in [i["TypeName"] for i in put["Items"]]
    service.associations.append({**gather, "AssociationId": "inv-2"})
    refresh(stub, tmp_path, associations, job_id="c-2")
    assert [s[1:3] for s in service.statuses()[-3:]] == [("Failed", "ExecutionError"), ("InProgress", ""),
                                                         ("Failed", "ExecutionError")]
    assert "detected multiple inventory configurations" in service.statuses()[-1][3]


def test_a_document_carried_in_the_listing_needs_no_get_document(stub: StubAws, tmp_path: Path) -> None:
    service = Service(stub, [{**association("assoc-1", ["true"]), "Content": RUN_SHELL_SCRIPT}])
    refresh(stub, tmp_path)
    assert "AmazonSSM.GetDocument" not in stub.targets()
    assert service.statuses()[-1][1] == "Success"


def test_run_command_gets_awss_refusal_for_software_inventory(stub: StubAws, tmp_path: Path) -> None:
    jobs = Jobs(StateDir(tmp_path / "jobs"), plugins={software_inventory.NAME: inventory_plugin(stub, tmp_path)})
    reply = jobs.run("c-2", send_command_payload("c-2", "AWS-GatherSoftwareInventory", GATHER_SOFTWARE_INVENTORY, {}))
    assert reply.document_status == "Failed"
    assert reply.plugins[0].standard_error == "aws:softwareInventory plugin can only be invoked via ssm-associate"


def test_association_parameters_become_the_documents_as_awss_agent_converts_them() -> None:
    declared = {"s": {"type": "String"}, "l": {"type": "StringList"}, "m": {"type": "StringMap"},
                "i": {"type": "Integer"}}
    given = {"s": ("a", "b"), "l": ("x", "y"), "m": ('{"k":"v"}',), "i": ("3",), "undeclared": ("z",)}
    assert run_parameters(given, declared) == {"s": "a", "l": ["x", "y"], "m": '{"k":"v"}'}


def test_the_summary_counts_every_status_names_failures_and_is_cut_at_510_bytes() -> None:
    results = [PluginResult("a", "Success", 0, "", ""), PluginResult("b", "Skipped", 0, "", ""),
               PluginResult("c", "TimedOut", 137, "", ""), PluginResult("d", "Failed", 1, "", "x" * 600)]
    summary = execution_summary(results, 4)
    assert summary.startswith("4 out of 4 plugins processed, 1 success, 1 failed, 1 timedout, 1 skipped. \n"
                              "The operation d failed because xxx")
    assert len(summary.encode()) == 510 and summary.endswith("--output truncated--")
