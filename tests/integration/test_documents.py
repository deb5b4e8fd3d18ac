"""SSM documents end to end with boto3 and the aws CLI: versions, formats, AWS's errors for bad content,
listing and filters, sharing with another account, and custom documents run by Run Command on a real agent
(steps, preconditions, typed parameters, {{ssm:…}} values read with the caller's permissions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from tests.integration.test_organizations import member_session
from tests.support.agents import AgentProcess, wait_invocation
from tests.support.iam import allow, unique, user_with_policy
from tests.support.server import ServerProcess


def shell_document(*commands: str, description: str = "test document", **extra: Any) -> dict[str, Any]:
    return {"schemaVersion": "2.2", "description": description, "parameters": extra.pop("parameters", {}),
            "mainSteps": extra.pop("steps", [{"action": "aws:runShellScript", "name": "run",
                                              "inputs": {"runCommand": list(commands)}}])}


def error_of(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_a_document_is_created_versioned_described_and_deleted(server: ServerProcess) -> None:
    ssm, name = server.client("ssm"), unique("Doc")
    first = json.dumps(shell_document("echo one", parameters={"who": {"type": "String", "default": "world",
                                                                       "description": "whom to greet"}}))
    created = ssm.create_document(Name=name, Content=first, DocumentType="Command", VersionName="v-one",
                                  Tags=[{"Key": "team", "Value": "ops"}])["DocumentDescription"]
    assert (created["DocumentVersion"], created["DefaultVersion"], created["LatestVersion"]) == ("1", "1", "1")
    assert created["SchemaVersion"] == "2.2" and created["PlatformTypes"] == ["Linux", "MacOS"]
    assert created["Parameters"] == [{"Name": "who", "Type": "String", "Description": "whom to greet",
                                      "DefaultValue": "world"}]
    assert created["Status"] == "Active" and created["HashType"] == "Sha256" and len(created["Hash"]) == 64
    assert created["Tags"] == [{"Key": "team", "Value": "ops"}] and created["VersionName"] == "v-one"
    second = json.dumps(shell_document("echo two"))
    updated = ssm.update_document(Name=name, Content=second, DocumentVersion="$LATEST")["DocumentDescription"]
    assert (updated["DocumentVersion"], updated["DefaultVersion"], updated["LatestVersion"]) == ("2", "1", "2")
    assert ssm.get_document(Name=name)["Content"] == first
    assert ssm.get_document(Name=name, DocumentVersion="$LATEST")["Content"] == second
    as_yaml = ssm.get_document(Name=name, DocumentVersion="2", DocumentFormat="YAML")
    assert as_yaml["DocumentFormat"] == "YAML" and yaml.safe_load(as_yaml["Content"]) == json.loads(second)
    assert ssm.describe_document(Name=name, VersionName="v-one")["Document"]["DocumentVersion"] == "1"
    default = ssm.update_document_default_version(Name=name, DocumentVersion="2")["Description"]
    assert default == {"Name": name, "DefaultVersion": "2"}
    versions = ssm.list_document_versions(Name=name)["DocumentVersions"]
    assert [(v["DocumentVersion"], v["IsDefaultVersion"]) for v in versions] == [("1", False), ("2", True)]
    assert error_of(lambda: ssm.delete_document(Name=name, DocumentVersion="2"))[0] == "InvalidDocumentOperation"
    ssm.delete_document(Name=name, DocumentVersion="1")
    assert [v["DocumentVersion"] for v in ssm.list_document_versions(Name=name)["DocumentVersions"]] == ["2"]
    ssm.delete_document(Name=name)
    assert error_of(lambda: ssm.describe_document(Name=name))[0] == "InvalidDocument"


def test_the_cli_creates_a_yaml_document_from_a_file_and_lists_it(server: ServerProcess, tmp_path: Path) -> None:
    name = unique("YamlDoc")
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(shell_document("uptime")))
    created = server.aws_json("ssm", "create-document", "--content", f"file://{path}", "--name", name,
                              "--document-type", "Command", "--document-format", "YAML")["DocumentDescription"]
    assert created["DocumentFormat"] == "YAML" and created["Owner"] == server.client("sts").get_caller_identity()[
        "Account"]
    assert server.aws_json("ssm", "get-document", "--name", name)["Content"] == path.read_text()
    mine = server.aws_json("ssm", "list-documents", "--filters", "Key=Owner,Values=Self",
                           "Key=Name,Values=" + name)["DocumentIdentifiers"]
    assert [(d["Name"], d["DocumentFormat"], d["SchemaVersion"]) for d in mine] == [(name, "YAML", "2.2")]


def test_listing_shows_amazons_documents_unless_filtered_and_filters_by_tag_and_platform(
        server: ServerProcess) -> None:
    ssm, name = server.client("ssm"), unique("Listed")
    ssm.create_document(Name=name, Content=json.dumps(shell_document("true")), Tags=[{"Key": "env", "Value": "x"}])
    everything = [d["Name"] for d in ssm.get_paginator("list_documents").paginate(
        PaginationConfig={"PageSize": 1}).build_full_result()["DocumentIdentifiers"]]
    assert {"AWS-RunShellScript", "AWS-RunPowerShellScript", name} <= set(everything)
    amazon = ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Amazon"]}])["DocumentIdentifiers"]
    assert {d["Owner"] for d in amazon} == {"Amazon"} and name not in {d["Name"] for d in amazon}
    tagged = ssm.list_documents(Filters=[{"Key": "tag:env", "Values": ["x"]}])["DocumentIdentifiers"]
    assert [d["Name"] for d in tagged] == [name]
    windows = ssm.list_documents(Filters=[{"Key": "PlatformTypes", "Values": ["Windows"]}])["DocumentIdentifiers"]
    names = [d["Name"] for d in windows]  # and Amazon's Session documents, which run on Windows too
    assert "AWS-RunPowerShellScript" in names and "AWS-RunShellScript" not in names
    old_style = ssm.list_documents(DocumentFilterList=[{"key": "Owner", "value": "Self"}])["DocumentIdentifiers"]
    assert name in {d["Name"] for d in old_style} and "AWS-RunShellScript" not in {d["Name"] for d in old_style}
    shell = ssm.describe_document(Name="AWS-RunShellScript")["Document"]
    assert (shell["Owner"], shell["SchemaVersion"], shell["PlatformTypes"]) == ("Amazon", "1.2", ["Linux", "MacOS"])
    # The Hash AWS reports for its own AWS-RunShellScript: the content is AWS's, byte for byte.
    assert shell["Hash"] == "99749de5e62f71e5ebe9a55c2321e2c394796afe7208cff048696541e6f6771e"
    assert {p["Name"] for p in shell["Parameters"]} == {"commands", "workingDirectory", "executionTimeout"}
    assert error_of(lambda: ssm.list_documents(Filters=[{"Key": "Colour", "Values": ["x"]}]))[0] == \
        "ValidationException"


BAD_CONTENT = [
    ("{not json", "InvalidDocumentContent"),
    (json.dumps({"schemaVersion": "3.0", "mainSteps": []}), "InvalidDocumentSchemaVersion"),
    (json.dumps(shell_document(steps=[])), "InvalidDocumentContent"),
    (json.dumps(shell_document(steps=[{"action": "aws:launchRocket", "name": "x", "inputs": {}}])),
     "InvalidDocumentContent"),
    (json.dumps(shell_document(steps=[{"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["a"]}},
                                      {"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["b"]}}])),
     "InvalidDocumentContent"),
    (json.dumps(shell_document("echo {{ undeclared }}")), "InvalidDocumentContent"),
    (json.dumps(shell_document("true", parameters={"n": {"type": "Float"}})), "InvalidDocumentContent"),
    (json.dumps(shell_document("true", parameters={"n": {"type": "String", "default": "c",
                                                         "allowedValues": ["a", "b"]}})), "InvalidDocumentContent"),
    (json.dumps({**shell_document(steps=[{"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["a"]},
                                          "precondition": {"StringEquals": ["platformType", "Linux"]}}]),
                 "schemaVersion": "2.0"}), "InvalidDocumentContent"),
]


@pytest.mark.parametrize(("content", "code"), BAD_CONTENT)
def test_bad_content_is_refused_with_awss_error(server: ServerProcess, content: str, code: str) -> None:
    ssm = server.client("ssm")
    assert error_of(lambda: ssm.create_document(Name=unique("Bad"), Content=content))[0] == code


def test_bad_names_duplicates_and_stale_updates_get_awss_errors(server: ServerProcess) -> None:
    ssm, name = server.client("ssm"), unique("Once")
    content = json.dumps(shell_document("true"))
    assert error_of(lambda: ssm.create_document(Name="AWS-Mine", Content=content))[0] == "ValidationException"
    assert error_of(lambda: ssm.create_document(Name="amazonish", Content=content))[0] == "ValidationException"
    ssm.create_document(Name=name, Content=content, VersionName="first")
    assert error_of(lambda: ssm.create_document(Name=name, Content=content))[0] == "DocumentAlreadyExists"
    assert error_of(lambda: ssm.update_document(Name=name, Content=content, DocumentVersion="$LATEST"))[0] == \
        "DuplicateDocumentContent"
    changed = json.dumps(shell_document("false"))
    assert error_of(lambda: ssm.update_document(Name=name, Content=changed, DocumentVersion="$LATEST",
                                                VersionName="first"))[0] == "DuplicateDocumentVersionName"
    ssm.update_document(Name=name, Content=changed, DocumentVersion="1")
    assert error_of(lambda: ssm.update_document(Name=name, Content=json.dumps(shell_document("id")),
                                                DocumentVersion="1"))[0] == "InvalidDocumentVersion"
    assert error_of(lambda: ssm.get_document(Name=name, DocumentVersion="9"))[0] == "InvalidDocumentVersion"
    assert error_of(lambda: ssm.delete_document(Name="AWS-RunShellScript"))[0] == "InvalidDocumentOperation"
    # The service model's enum refuses it before the service does, as AWS's front end does.
    assert error_of(lambda: ssm.describe_document_permission(Name=name, PermissionType="Steal"))[0] == \
        "ValidationException"


def test_a_shared_document_is_used_by_arn_from_the_other_account_and_unsharing_ends_it(
        fresh_server: Callable[..., ServerProcess]) -> None:
    server = fresh_server()
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    other = org.create_account(AccountName="dev", Email="dev@example.com")["CreateAccountStatus"]["AccountId"]
    ssm, name = server.client("ssm"), unique("Shared")
    owner = server.client("sts").get_caller_identity()["Account"]
    ssm.create_document(Name=name, Content=json.dumps(shell_document("true")))
    arn = f"arn:aws:ssm:{server.region}:{owner}:document/{name}"
    member = server.client("ssm", member_session(server, other))
    assert error_of(lambda: member.describe_document(Name=arn))[0] == "InvalidDocument"
    ssm.modify_document_permission(Name=name, PermissionType="Share", AccountIdsToAdd=[other])
    shared = ssm.describe_document_permission(Name=name, PermissionType="Share")
    assert shared["AccountIds"] == [other]
    assert shared["AccountSharingInfoList"] == [{"AccountId": other, "SharedDocumentVersion": "$DEFAULT"}]
    assert member.describe_document(Name=arn)["Document"]["Owner"] == owner
    assert name in {d["Name"] for d in member.list_documents(
        Filters=[{"Key": "Owner", "Values": ["Private"]}])["DocumentIdentifiers"]}
    assert error_of(lambda: ssm.delete_document(Name=name))[0] == "InvalidDocumentOperation"
    assert error_of(lambda: member.delete_document(Name=arn))[0] == "ValidationException"  # names only, no ARN
    ssm.modify_document_permission(Name=name, PermissionType="Share", AccountIdsToRemove=[other])
    assert error_of(lambda: member.get_document(Name=arn))[0] == "InvalidDocument"
    ssm.delete_document(Name=name)


STEPS = [
    {"action": "aws:runShellScript", "name": "greet",
     "inputs": {"runCommand": ["echo hello {{ who }} x{{ times }} {{ loud }}"]}},
    {"action": "aws:runPowerShellScript", "name": "windowsOnly",
     "precondition": {"StringEquals": ["platformType", "Windows"]}, "inputs": {"runCommand": ["Write-Host hi"]}},
    {"action": "aws:runShellScript", "name": "secret", "inputs": {"runCommand": ["echo {{ motd }}"]}},
]
PARAMETERS = {
    "who": {"type": "String", "allowedPattern": "^[a-z]+$"},
    "times": {"type": "Integer", "default": 2},
    "loud": {"type": "Boolean", "default": False},
    "motd": {"type": "String", "default": "none"},
}


def test_a_custom_document_runs_step_by_step_with_typed_parameters_and_ssm_values(
        server: ServerProcess, agent: AgentProcess) -> None:
    ssm, name = server.client("ssm"), unique("Steps")
    ssm.create_document(Name=name, Content=json.dumps(shell_document(steps=STEPS, parameters=PARAMETERS)))
    motd = unique("/motd/")
    ssm.put_parameter(Name=motd, Value="from-parameter-store", Type="String")
    sent = ssm.send_command(DocumentName=name, InstanceIds=[agent.instance_id],
                            Parameters={"who": ["node"], "times": ["3"], "loud": ["true"],
                                        "motd": [f"{{{{ssm:{motd}}}}}"]})["Command"]
    assert sent["Parameters"]["motd"] == [f"{{{{ssm:{motd}}}}}"] and sent["DocumentVersion"] == "1"
    wait_invocation(server, sent["CommandId"], agent.instance_id, plugin="greet")
    greet = ssm.get_command_invocation(CommandId=sent["CommandId"], InstanceId=agent.instance_id,
                                       PluginName="greet")
    assert greet["StandardOutputContent"] == "hello node x3 true\n" and greet["Status"] == "Success"
    secret = ssm.get_command_invocation(CommandId=sent["CommandId"], InstanceId=agent.instance_id,
                                        PluginName="secret")
    assert secret["StandardOutputContent"] == "from-parameter-store\n"
    skipped = ssm.get_command_invocation(CommandId=sent["CommandId"], InstanceId=agent.instance_id,
                                         PluginName="windowsOnly")
    assert skipped["Status"] == "Success" and "unsatisfied preconditions" in skipped["StandardOutputContent"]
    assert error_of(lambda: ssm.get_command_invocation(CommandId=sent["CommandId"],
                                                       InstanceId=agent.instance_id))[0] == "InvalidPluginName"
    detail = ssm.list_command_invocations(CommandId=sent["CommandId"], Details=True)["CommandInvocations"][0]
    assert [p["Name"] for p in detail["CommandPlugins"]] == ["greet", "windowsOnly", "secret"]


@pytest.mark.parametrize(("parameters", "code"), [
    ({"who": ["Not Lower"]}, "InvalidParameters"),
    ({"who": ["node"], "times": ["many"]}, "InvalidParameters"),
    ({"who": ["node"], "loud": ["perhaps"]}, "InvalidParameters"),
    ({"times": ["1"]}, "InvalidParameters"),
    ({"who": ["node"], "motd": ["{{ssm:/no/such/parameter}}"]}, "InvalidParameters"),
])
def test_bad_parameter_values_for_a_custom_document_are_refused(
        server: ServerProcess, agent: AgentProcess, parameters: dict[str, list[str]], code: str) -> None:
    ssm, name = server.client("ssm"), unique("Typed")
    ssm.create_document(Name=name, Content=json.dumps(shell_document(steps=STEPS, parameters=PARAMETERS)))
    assert error_of(lambda: ssm.send_command(DocumentName=name, InstanceIds=[agent.instance_id],
                                             Parameters=parameters))[0] == code


def test_send_command_is_authorized_on_the_document_its_tags_and_the_ssm_values_it_reads(
        server: ServerProcess, agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    allowed, other = unique("Allowed"), unique("Other")
    for name, team in ((allowed, "blue"), (other, "red")):
        ssm.create_document(Name=name, Content=json.dumps(shell_document("echo {{ v }}", parameters={
            "v": {"type": "String", "default": "x"}})), Tags=[{"Key": "team", "Value": team}])
    hidden = unique("/hidden/")
    ssm.put_parameter(Name=hidden, Value="secret-ish", Type="String")
    _, user = user_with_policy(server, {"Version": "2012-10-17", "Statement": [
        allow("ssm:SendCommand", "arn:aws:ssm:*:*:managed-instance/*")["Statement"][0],
        allow("ssm:SendCommand", "arn:aws:ssm:*:*:document/*",
              Condition={"StringEquals": {"ssm:resourceTag/team": "blue"}})["Statement"][0]]})
    mine = server.client("ssm", user)
    mine.send_command(DocumentName=allowed, InstanceIds=[agent.instance_id])
    code, message = error_of(lambda: mine.send_command(DocumentName=other, InstanceIds=[agent.instance_id]))
    assert code == "AccessDeniedException" and f"document/{other}" in message
    code, message = error_of(lambda: mine.send_command(DocumentName=allowed, InstanceIds=[agent.instance_id],
                                                       Parameters={"v": [f"{{{{ssm:{hidden}}}}}"]}))
    assert code == "AccessDeniedException" and "ssm:GetParameters" in message


def test_session_documents_are_created_checked_listed_and_not_run_as_commands(server: ServerProcess,
                                                                             tmp_path: Path) -> None:
    ssm = server.client("ssm")
    name = unique("Prefs")
    preferences = {"schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
                   "sessionType": "Standard_Stream",
                   "inputs": {"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": True,
                              "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": True,
                              "kmsKeyId": "", "runAsEnabled": False, "runAsDefaultUser": "",
                              "idleSessionTimeout": "20", "shellProfile": {"windows": "", "linux": ""}}}
    created = ssm.create_document(Name=name, DocumentType="Session", Content=json.dumps(preferences))
    described = created["DocumentDescription"]
    assert (described["DocumentType"], described["SchemaVersion"]) == ("Session", "1.0")
    assert described["PlatformTypes"] == ["Windows", "Linux", "MacOS"]
    assert json.loads(ssm.get_document(Name=name)["Content"]) == preferences
    listed = ssm.list_documents(Filters=[{"Key": "DocumentType", "Values": ["Session"]},
                                         {"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"]
    assert name in [d["Name"] for d in listed]

    port = tmp_path / "port.yaml"  # the aws CLI, from a file, in YAML
    port.write_text("schemaVersion: '1.0'\nsessionType: Port\nparameters:\n  portNumber:\n    type: String\n"
                    "    default: '80'\nproperties:\n  portNumber: '{{ portNumber }}'\n")
    server.aws("ssm", "create-document", "--name", unique("Port"), "--document-type", "Session",
               "--document-format", "YAML", "--content", f"file://{port}")

    with pytest.raises(ClientError) as refused:
        ssm.create_document(Name=unique("Bad"), DocumentType="Session", Content=json.dumps(
            {**preferences, "inputs": {**preferences["inputs"], "idleSessionTimeout": "90"}}))
    assert refused.value.response["Error"]["Code"] == "InvalidDocumentContent"
    assert "from 1 to 60" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as updated:
        ssm.update_document(Name=name, DocumentVersion="$LATEST", Content=json.dumps({**preferences,
                                                                                     "sessionType": "Shell"}))
    assert updated.value.response["Error"]["Code"] == "InvalidDocumentContent"
    with pytest.raises(ClientError) as run:
        ssm.send_command(DocumentName=name, Targets=[{"Key": "tag:none", "Values": ["none"]}])
    assert run.value.response["Error"]["Code"] == "InvalidDocument"
