"""Amazon's Session documents, and the Session document StartSession runs: found, checked, its parameters
completed and its preferences and properties resolved."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection

from openssm.services import command_documents, document_queries, documents
from openssm.services.document_parameters import InvalidParameters
from openssm.services.documents import InvalidDocument, NewDocument
from openssm.services.documents_builtin import AMAZON, BUILT_IN
from openssm.services.parameter_model import Scope
from openssm.services.session_documents import (
    SessionPreferences,
    prepare,
    resolve_session_parameters,
    session_document,
)
from openssm.store.db import open_database

NOW = dt.datetime(2026, 12, 6, 11, tzinfo=dt.UTC)
SCOPE = Scope("111122223333", "us-east-1", "arn:aws:iam::111122223333:user/Jane-Roe", NOW)
SESSION_DOCUMENTS = {"AWS-StartSSHSession", "AWS-StartPortForwardingSession",
                     "AWS-StartPortForwardingSessionToRemoteHost", "AWS-StartInteractiveCommand",
                     "AWS-StartNonInteractiveCommand"}
PREFERENCES = {"schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
               "sessionType": "Standard_Stream",
               "inputs": {"s3BucketName": "logs", "s3KeyPrefix": "sessions/", "s3EncryptionEnabled": True,
                          "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": False,
                          "cloudWatchStreamingEnabled": False, "kmsKeyId": "", "runAsEnabled": True,
                          "runAsDefaultUser": "ec2-user", "idleSessionTimeout": "5", "maxSessionDuration": "60",
                          "shellProfile": {"windows": "date", "linux": "cd ~ && bash"}}}


@pytest.fixture
def conn() -> Iterator[Connection]:
    with open_database("sqlite://").begin() as connection:
        yield connection


def create(conn: Connection, name: str, body: dict[str, Any], document_type: str = "Session") -> None:
    documents.create(conn, SCOPE, NewDocument(name, json.dumps(body), document_type))


def test_amazons_session_documents_are_session_documents_amazon_owns() -> None:
    assert {n for n, spec in BUILT_IN.items() if spec.document_type == "Session"} == SESSION_DOCUMENTS
    for name in SESSION_DOCUMENTS:
        found = documents.built_in(name, "eu-west-1")
        assert (found.owner, found.document_type, found.parsed.schema_version) == (AMAZON, "Session", "1.0")
        assert found.parsed.platform_types == ("Windows", "Linux", "MacOS")
        assert found.arn == f"arn:aws:ssm:eu-west-1::document/{name}"


def test_aws_start_ssh_session_says_what_a_real_describe_document_says() -> None:
    found = documents.built_in("AWS-StartSSHSession", "us-east-1")
    assert found.created_at == dt.datetime(2019, 6, 12, 21, 33, 3, 766000, tzinfo=dt.UTC)
    [port] = found.parsed.parameters
    assert (port.name, port.type, port.default) == ("portNumber", "String", "22")
    assert port.description == "(Optional) Port number of SSH server on the instance"


def test_port_forwarding_declares_a_remote_port_and_a_local_one_chosen_at_run_time() -> None:
    found = documents.built_in("AWS-StartPortForwardingSession", "us-east-1")
    declared = {d.name: d for d in found.parsed.parameters}
    assert (declared["portNumber"].default, declared["localPortNumber"].default) == ("80", "0")
    assert declared["localPortNumber"].description == ("(Optional) Port number on local machine to forward traffic "
                                                       "to. An open port is chosen at run-time if not provided")
    assert found.parsed.body["properties"] == {"portNumber": "{{ portNumber }}", "type": "LocalPortForwarding",
                                               "localPortNumber": "{{ localPortNumber }}"}


def test_list_documents_filters_amazons_session_documents_by_type_and_owner(conn: Connection) -> None:
    create(conn, "Team-Port", {"schemaVersion": "1.0", "sessionType": "Port", "properties": {"portNumber": "80"}})
    visible = documents.default_versions(conn, SCOPE)

    def listed(*filters: tuple[str, str]) -> set[str]:
        wanted = document_queries.from_request([{"Key": k, "Values": [v]} for k, v in filters], [])
        return {d.name for d in document_queries.select(visible, wanted, SCOPE.account_id, lambda d: {})}

    assert listed(("DocumentType", "Session")) == SESSION_DOCUMENTS | {"Team-Port"}
    assert listed(("DocumentType", "Session"), ("Owner", "Amazon")) == SESSION_DOCUMENTS
    assert listed(("DocumentType", "Command")) == {"AWS-RunShellScript", "AWS-RunPowerShellScript",
                                                   "AWS-RefreshAssociation", "AWS-GatherSoftwareInventory",
                                                   "AWS-RunPatchBaseline"}


def test_send_command_refuses_a_session_document() -> None:
    with pytest.raises(InvalidDocument):
        command_documents.for_version(documents.built_in("AWS-StartSSHSession", "us-east-1"), {}, lambda n: n)


def test_without_its_own_preferences_an_account_gets_session_managers_defaults(conn: Connection) -> None:
    document = session_document(conn, SCOPE, None)
    assert (document.name, document.session_type, document.is_default_preferences) == (
        "SSM-SessionManagerRunShell", "Standard_Stream", True)
    assert document.arn == "arn:aws:ssm:us-east-1:111122223333:document/SSM-SessionManagerRunShell"
    assert document.preferences() == SessionPreferences(s3_encryption_enabled=True,
                                                        cloudwatch_encryption_enabled=True,
                                                        cloudwatch_streaming_enabled=True)
    assert document.preferences().idle_session_timeout_minutes == 20
    assert session_document(conn, SCOPE, "SSM-SessionManagerRunShell").is_default_preferences


def test_the_accounts_own_preferences_document_is_used_at_its_latest_version(conn: Connection) -> None:
    create(conn, "SSM-SessionManagerRunShell", PREFERENCES)
    documents.update(conn, SCOPE, documents.DocumentChange("SSM-SessionManagerRunShell", json.dumps(
        {**PREFERENCES, "inputs": {**PREFERENCES["inputs"], "idleSessionTimeout": "15"}}), "$LATEST"))
    document = session_document(conn, SCOPE, None)
    assert (document.owner, document.version, document.is_default_preferences) == (SCOPE.account_id, "2", False)
    assert document.preferences() == SessionPreferences(
        "logs", "sessions/", True, "", False, False, "", True, "ec2-user", 15, 60, "date", "cd ~ && bash")


def test_empty_timeouts_mean_session_managers_defaults(conn: Connection) -> None:
    # AWS's own preferences template leaves both timeouts empty.
    create(conn, "Prefs", {**PREFERENCES, "inputs": {"idleSessionTimeout": "5", "maxSessionDuration": ""}})
    assert session_document(conn, SCOPE, "Prefs").preferences() == SessionPreferences(idle_session_timeout_minutes=5)


@pytest.mark.parametrize(("name", "message"), [
    ("AWS-RunShellScript", "Document type: 'Command' is not supported. Only type: 'Session' is supported for "
                           "Session Manager."),
    ("No-Such-Document", "No-Such-Document does not exist"),
])
def test_start_session_refuses_what_is_not_a_session_document(conn: Connection, name: str, message: str) -> None:
    with pytest.raises(InvalidDocument) as refused:
        session_document(conn, SCOPE, name)
    assert message in refused.value.message


def test_defaults_complete_the_parameters_the_caller_left_out(conn: Connection) -> None:
    document = session_document(conn, SCOPE, "AWS-StartPortForwardingSession")
    assert resolve_session_parameters(document, {"portNumber": ["8080"]}) == {"portNumber": ["8080"],
                                                                            "localPortNumber": ["0"]}
    assert resolve_session_parameters(document, {}) == {"portNumber": ["80"], "localPortNumber": ["0"]}


def test_a_value_that_breaks_its_pattern_is_refused_in_awss_words(conn: Connection) -> None:
    document = session_document(conn, SCOPE, "AWS-StartPortForwardingSessionToRemoteHost")
    with pytest.raises(InvalidParameters) as refused:
        resolve_session_parameters(document, {"host": ["db;rm -rf /"]})
    assert refused.value.message == ("Parameter \"host\" has value \"db;rm -rf /\" not matching "
                                     "\"^[^,$^&\\(\\)!;'\"<>\\`{}\\[\\]\\|#=]{3,}$\".")


@pytest.mark.parametrize(("name", "given", "message"), [
    ("AWS-StartSSHSession", {"port": ["22"]}, "Parameters [port] are not defined in the document."),
    ("AWS-StartSSHSession", {"portNumber": ["0"]}, "not matching"),
    ("AWS-StartInteractiveCommand", {}, "Parameter \"command\" is required but missing."),
    ("AWS-StartInteractiveCommand", {"command": ["ls", "pwd"]}, "takes exactly one value"),
])
def test_parameters_that_do_not_fit_the_document_are_refused(conn: Connection, name: str,
                                                             given: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InvalidParameters) as refused:
        resolve_session_parameters(session_document(conn, SCOPE, name), given)
    assert message in refused.value.message


def test_parameter_store_references_are_resolved_by_the_callers_lookup(conn: Connection) -> None:
    document = session_document(conn, SCOPE, "AWS-StartSSHSession")
    lookup = {"/ssh/port": "2222"}.__getitem__
    assert resolve_session_parameters(document, {"portNumber": ["{{ssm:/ssh/port}}"]}, lookup=lookup) == {
        "portNumber": ["2222"]}


def test_prepare_puts_the_values_in_the_properties_the_node_is_told(conn: Connection) -> None:
    ssh = prepare(conn, SCOPE, "AWS-StartSSHSession", {})
    assert (ssh.document.session_type, ssh.parameters, ssh.properties) == (
        "Port", {"portNumber": ["22"]}, {"portNumber": "22"})
    assert ssh.preferences == SessionPreferences()
    command = prepare(conn, SCOPE, "AWS-StartInteractiveCommand", {"command": ["sudo -i"]})
    assert command.properties["linux"] == {"commands": "sudo -i", "runAsElevated": False}
    assert command.content["properties"]["windows"]["commands"] == "sudo -i"
    assert command.content["parameters"] == command.document.body["parameters"]


def test_preferences_may_take_the_documents_parameters(conn: Connection) -> None:
    create(conn, "Parameterised", {
        "schemaVersion": "1.0", "sessionType": "Standard_Stream",
        "parameters": {"bucket": {"type": "String", "default": "default-bucket"},
                       "timeout": {"type": "String", "default": "10", "allowedPattern": "^[0-9]+$"}},
        "inputs": {"s3BucketName": "{{ bucket }}", "idleSessionTimeout": "10"}})
    prepared = prepare(conn, SCOPE, "Parameterised", {"bucket": ["audit"]})
    assert prepared.parameters == {"bucket": ["audit"], "timeout": ["10"]}
    assert (prepared.preferences.s3_bucket_name, prepared.content["inputs"]["s3BucketName"]) == ("audit", "audit")
    assert prepared.document.preferences().s3_bucket_name == "default-bucket"
