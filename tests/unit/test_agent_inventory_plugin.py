"""aws:softwareInventory runs as AWS's agent runs it: only for an association, one per node, its inputs as
AWS-GatherSoftwareInventory passes them choosing the gatherers, one PutInventory with what they found, AWS's
messages in its output, and bad custom inventory files named there without failing the step."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.inventory.sources import Sources
from openssm.agent.inventory.upload import ContentHashes, InventoryUploader
from openssm.agent.plugins import software_inventory
from openssm.agent.plugins.document import parse_document
from openssm.agent.plugins.run_shell import ProcessHandle
from openssm.agent.plugins.software_inventory import SoftwareInventory
from openssm.agent.plugins.steps import StepRun
from openssm.agent.state import StateDir
from openssm.protocol.mgs import PluginResult, send_command_payload
from tests.support.agent_stub import INSTANCE_ID, StubAws
from tests.unit.test_agent_inventory_gatherers import network_root, write
from tests.unit.test_agent_inventory_upload import call_for

_ENABLED = {"type": "String", "default": "Enabled", "allowedValues": ["Enabled", "Disabled"]}
# AWS-GatherSoftwareInventory's shape: schema 2.0, every gatherer a String parameter passed to the one step.
GATHER_SOFTWARE_INVENTORY: dict[str, Any] = {
    "schemaVersion": "2.0",
    "description": "Software Inventory Policy Document.",
    "parameters": {
        "applications": _ENABLED, "awsComponents": _ENABLED, "networkConfig": _ENABLED, "billingInfo": _ENABLED,
        "windowsUpdates": _ENABLED, "instanceDetailedInformation": _ENABLED, "services": _ENABLED,
        "windowsRoles": _ENABLED, "customInventory": _ENABLED,
        "files": {"type": "String", "default": "", "displayType": "textarea"},
        "windowsRegistry": {"type": "String", "default": "", "displayType": "textarea"},
    },
    "mainSteps": [{"action": "aws:softwareInventory", "name": "collectSoftwareInventoryItems", "inputs": {
        name: f"{{{{ {name} }}}}" for name in (
            "applications", "awsComponents", "networkConfig", "files", "services", "windowsRoles", "windowsRegistry",
            "windowsUpdates", "instanceDetailedInformation", "billingInfo", "customInventory")}}],
}
DPKG_STATUS = ("Package: hello\nStatus: install ok installed\nSection: devel\nMaintainer: M <m@example.com>\n"
               "Architecture: amd64\nVersion: 2.10-3\nDescription: greeting\n")


@pytest.fixture
def stub() -> Iterator[StubAws]:
    with StubAws() as running:
        yield running


def plugin(stub: StubAws, tmp_path: Path, now: dt.datetime | None = None) -> SoftwareInventory:
    root = network_root(tmp_path / "root")
    write(root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: Test CPU\ncpu MHz\t\t: 1000.0\n")
    write(tmp_path, "dpkg/status", DPKG_STATUS)
    sources = Sources(root=root, dpkg_query=("dpkg-query", f"--admindir={tmp_path / 'dpkg'}"),
                      rpm=("/nonexistent/rpm",), systemctl=("/nonexistent/systemctl",), kernel_release="6.1.0-test",
                      environ={"ROOT": str(tmp_path)})
    state = StateDir(tmp_path / "state")
    uploader = InventoryUploader(call_for(stub), INSTANCE_ID, ContentHashes(state), jitter_seconds=0)
    clock = (lambda: now) if now else (lambda: dt.datetime.now(dt.UTC))
    return SoftwareInventory(uploader, state.custom_inventory_dir(), sources=sources, clock=clock)


def step_run(tmp_path: Path, parameters: dict[str, Any] | None = None, association_id: str = "assoc-1",
             current: tuple[str, ...] = ("assoc-1",)) -> StepRun:
    document = parse_document(send_command_payload("assoc-1", "AWS-GatherSoftwareInventory", GATHER_SOFTWARE_INVENTORY,
                                                   parameters or {}))
    (step,), (inputs,) = document.job.steps, document.inputs
    return StepRun(step, tmp_path, ProcessHandle(), {}, inputs, association_id, current)


def uploaded(stub: StubAws) -> dict[str, dict[str, Any]]:
    bodies = [c.json() for c in stub.calls if c.target == "AmazonSSM.PutInventory"]
    return {item["TypeName"]: item for body in bodies for item in body["Items"]}


def test_the_default_policy_uploads_awss_linux_types_and_reports_awss_success_message(
        stub: StubAws, tmp_path: Path) -> None:
    result = plugin(stub, tmp_path)(step_run(tmp_path))
    assert (result.status, result.code, result.standard_error) == ("Success", 0, "")
    assert result.standard_output == software_inventory.SUCCESS
    assert (result.name, result.action) == ("collectSoftwareInventoryItems", "aws:softwareInventory")
    items = uploaded(stub)
    assert list(items) == ["AWS:Application", "AWS:AWSComponent", "AWS:Network",
                           "AWS:Service", "AWS:InstanceDetailedInformation", "AWS:BillingInfo"]
    assert items["AWS:Application"]["Content"][0]["Name"] == "hello"
    assert items["AWS:Application"]["SchemaVersion"] == "1.1"
    assert items["AWS:Network"]["Content"][0]["IPV4"] == "10.0.2.15"
    assert items["AWS:InstanceDetailedInformation"]["Content"][0]["KernelVersion"] == "6.1.0-test"
    assert items["AWS:Service"]["Content"] == items["AWS:BillingInfo"]["Content"] == []


def test_disabled_gatherers_are_skipped_and_files_follow_the_files_parameter(stub: StubAws, tmp_path: Path) -> None:
    write(tmp_path, "watched/app.conf", "x=1\n")
    parameters = {name: "Disabled" for name in ("applications", "awsComponents", "networkConfig", "billingInfo",
                                                "services", "instanceDetailedInformation", "customInventory")}
    parameters["files"] = json.dumps([{"Path": "$ROOT/watched", "Pattern": ["*.conf"], "Recursive": False}])
    assert plugin(stub, tmp_path)(step_run(tmp_path, parameters)).status == "Success"
    items = uploaded(stub)
    assert list(items) == ["AWS:File"]
    assert items["AWS:File"]["Content"][0]["Name"] == "app.conf"
    assert items["AWS:File"]["Content"][0]["Description"].startswith("sha256:")


def test_a_policy_that_gathers_nothing_says_so_and_calls_nothing(stub: StubAws, tmp_path: Path) -> None:
    parameters = {name: "Disabled" for name in GATHER_SOFTWARE_INVENTORY["parameters"] if name != "files"}
    result = plugin(stub, tmp_path)(step_run(tmp_path, parameters))
    assert (result.status, result.standard_output) == ("Success", software_inventory.NO_DATA)
    assert stub.calls == []


def test_a_watched_file_that_changes_is_sent_again_and_one_that_does_not_is_not(stub: StubAws, tmp_path: Path) -> None:
    write(tmp_path, "watched/app.conf", "x=1\n")
    parameters = {"applications": "Disabled", "files": json.dumps([{"Path": "$ROOT/watched", "Pattern": ["*"]}])}
    gather = plugin(stub, tmp_path)
    for content in ("x=1\n", "x=1\n", "x=2\n"):
        write(tmp_path, "watched/app.conf", content)
        gather(step_run(tmp_path, parameters))
    sent = [[i["TypeName"] for i in c.json()["Items"] if "Content" in i] for c in stub.calls]
    assert [("AWS:File" in types) for types in sent] == [True, False, True]


def test_custom_inventory_files_are_uploaded_and_bad_ones_named_without_failing(stub: StubAws, tmp_path: Path) -> None:
    folder = tmp_path / "state" / "inventory" / "custom"
    write(folder, "rack.json", json.dumps({"SchemaVersion": "1.0", "TypeName": "Custom:Rack",
                                           "Content": {"Rack": "r1", "Location": "dc1"}}))
    write(folder, "disks.json", json.dumps({"SchemaVersion": "1.0", "TypeName": "Custom:Disk",
                                            "Content": [{"Size": "1"}, {"Size": "2"}]}))
    write(folder, "broken.json", "{not json")
    write(folder, "named.json", json.dumps({"SchemaVersion": "1.0", "TypeName": "Rack", "Content": {}}))
    write(folder, "typed.json", json.dumps({"SchemaVersion": "1.0", "TypeName": "Custom:T", "Content": {"n": 1}}))
    write(folder, "again.json", json.dumps({"SchemaVersion": "1", "TypeName": "Custom:V", "Content": {}}))
    write(folder, "notes.txt", "ignored")
    parameters = {name: "Disabled" for name in ("applications", "awsComponents", "networkConfig", "services")}
    result = plugin(stub, tmp_path)(step_run(tmp_path, parameters))
    assert (result.status, result.standard_output) == ("Success", software_inventory.SUCCESS)
    problems = result.standard_error.splitlines()
    assert [p.split(",")[0] for p in problems] == [f"Failed to get item from file {folder / name}" for name in
                                                   ("again.json", "broken.json", "named.json", "typed.json")]
    assert "has invalid SchemaVersion (1)" in problems[0] and "has to start with Custom:" in problems[2]
    items = uploaded(stub)
    assert items["Custom:Rack"]["Content"] == [{"Location": "dc1", "Rack": "r1"}]
    assert items["Custom:Disk"]["Content"] == [{"Size": "1"}, {"Size": "2"}]


def test_more_than_twenty_custom_files_fail_the_step_and_nothing_is_sent(stub: StubAws, tmp_path: Path) -> None:
    for index in range(21):
        write(tmp_path / "state" / "inventory" / "custom", f"{index}.json", "{}")
    result = plugin(stub, tmp_path)(step_run(tmp_path))
    assert (result.status, result.code) == ("Failed", 1)
    assert result.standard_error == ("Encountered error while executing CustomInventory. Error - Total custom "
                                     "inventory file count (21) exceed limit (20)")
    assert uploaded(stub) == {}


def test_a_gatherer_error_fails_the_step_in_awss_words_and_sends_nothing(stub: StubAws, tmp_path: Path) -> None:
    result = plugin(stub, tmp_path)(step_run(tmp_path, {"files": "[{"}))
    assert (result.status, result.code) == ("Failed", 1)
    assert result.standard_error.startswith("Encountered error while executing AWS:File. Error - invalid files filter")
    assert uploaded(stub) == {}


def test_run_command_cannot_run_the_plugin_nor_a_second_inventory_association(stub: StubAws, tmp_path: Path) -> None:
    gather = plugin(stub, tmp_path)
    by_command = gather(step_run(tmp_path, association_id=""))
    assert (by_command.status, by_command.standard_error) == (
        "Failed", "aws:softwareInventory plugin can only be invoked via ssm-associate")
    second = gather(step_run(tmp_path, current=("assoc-0", "assoc-1")))
    assert second.standard_error == (
        "aws:softwareInventory detected multiple inventory configurations associated with one instance. Each "
        "instance can be associated with just one inventory configuration. Conflicting inventory configuration "
        "IDs: assoc-1 and assoc-0")
    assert uploaded(stub) == {}


def test_inputs_aws_agent_cannot_read_and_refused_uploads_fail_the_step(stub: StubAws, tmp_path: Path) -> None:
    gather = plugin(stub, tmp_path)
    run = step_run(tmp_path)
    bad = gather(StepRun(run.step, tmp_path, ProcessHandle(), {}, {"applications": ["Enabled"]}, "assoc-1"))
    assert bad.standard_error == "invalid or unrecognized input was received for aws:softwareInventory plugin"
    stub.answers["AmazonSSM.PutInventory"] = lambda call: (500, {"__type": "InternalServerError", "message": "down"})
    refused: PluginResult = gather(run)
    assert (refused.status, refused.code) == ("Failed", 1)
    assert refused.standard_error == ("inventory data could not be uploaded to Systems Manager. Additional "
                                      "troubleshooting information - InternalServerError: down")


def test_capture_time_is_the_clocks_in_awss_format(stub: StubAws, tmp_path: Path) -> None:
    gather = plugin(stub, tmp_path, dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC))
    gather(step_run(tmp_path, {"applications": "Disabled"}))
    assert {i["CaptureTime"] for i in uploaded(stub).values()} == {"2026-01-02T03:04:05Z"}
