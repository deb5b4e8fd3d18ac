"""Session documents checked as CreateDocument checks them (AWS's "Session document schema")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openssm.services.document_content import InvalidDocumentContent, InvalidDocumentSchemaVersion
from openssm.services.session_document_content import parse, preferences, session_type

SHELL = {"schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
         "sessionType": "Standard_Stream",
         "inputs": {"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": True,
                    "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": True,
                    "cloudWatchStreamingEnabled": False, "kmsKeyId": "", "runAsEnabled": True,
                    "runAsDefaultUser": "", "idleSessionTimeout": "20", "maxSessionDuration": "",
                    "shellProfile": {"windows": "date", "linux": "pwd;ls"}}}
LOG_VIEWER = {"schemaVersion": "1.0", "description": "Document to view a log file on a Linux instance",
              "sessionType": "InteractiveCommands",
              "parameters": {"logpath": {"type": "String", "description": "The log file path to read.",
                                         "default": "/var/log/amazon/ssm/amazon-ssm-agent.log",
                                         "allowedPattern": "^[a-zA-Z0-9-_/]+(.log)$"}},
              "properties": {"linux": {"commands": "tail -f {{ logpath }}", "runAsElevated": True}}}
PORT = {"schemaVersion": "1.0", "description": "Document to start port forwarding session over Session Manager",
        "sessionType": "Port",
        "parameters": {"portNumber": {"type": "String", "default": "80"}},
        "properties": {"type": "LocalPortForwarding", "portNumber": "{{ portNumber }}"}}


@pytest.mark.parametrize("document", [SHELL, LOG_VIEWER, PORT])
def test_awss_examples_are_accepted(document: dict[str, Any]) -> None:
    parsed = parse(json.dumps(document))
    assert session_type(parsed) == document["sessionType"] and parsed.schema_version == "1.0"
    assert parsed.platform_types == ("Windows", "Linux", "MacOS")


def test_the_preferences_are_the_documents_inputs_whatever_its_type() -> None:
    assert preferences(parse(json.dumps(SHELL)))["idleSessionTimeout"] == "20"
    assert preferences(parse(json.dumps(PORT))) == {}
    # A Port document with its own timeouts, numbers rather than text (SageMaker's SSH session document).
    timed = change(PORT, inputs={"idleSessionTimeout": 60, "maxSessionDuration": 720})
    assert preferences(parse(timed)) == {"idleSessionTimeout": 60, "maxSessionDuration": 720}


def test_yaml_is_read_too() -> None:
    text = "schemaVersion: '1.0'\nsessionType: Standard_Stream\ninputs:\n  idleSessionTimeout: '5'\n"
    assert preferences(parse(text, "YAML")) == {"idleSessionTimeout": "5"}


def change(document: dict[str, Any], **edits: Any) -> str:
    return json.dumps({**document, **edits})


@pytest.mark.parametrize(("text", "message"), [
    (change(SHELL, sessionType="Shell"), "Invalid \"sessionType\""),
    (change(SHELL, mainSteps=[]), "Unknown property \"mainSteps\"."),
    (change(SHELL, inputs={**SHELL["inputs"], "idleSessionTimeout": "61"}), "from 1 to 60"),
    (change(SHELL, inputs={**SHELL["inputs"], "idleSessionTimeout": "0"}), "from 1 to 60"),
    (change(SHELL, inputs={**SHELL["inputs"], "maxSessionDuration": "1441"}), "from 1 to 1440"),
    (change(SHELL, inputs={**SHELL["inputs"], "runAsEnabled": "yes"}), "true or false"),
    (change(SHELL, inputs={**SHELL["inputs"], "colour": "blue"}), "Unknown property \"colour\" in inputs."),
    (change(SHELL, inputs={"shellProfile": {"solaris": "ls"}}), "map windows and linux"),
    (change(PORT, properties={"portNumber": "{{ other }}"}), "Parameter \"other\" is not declared."),
    (change(PORT, properties={"remote": "x"}), "Unknown property \"remote\""),
    (change(PORT, inputs={"idleSessionTimeout": 90}), "from 1 to 60"),
    (change(LOG_VIEWER, properties=None), "Missing \"properties\""),
    (change(LOG_VIEWER, properties={"linux": {"command": "ls"}}), "give \"commands\""),
    (change(LOG_VIEWER, properties={"beos": {"commands": "ls"}}), "Unknown property \"beos\""),
    ("[]", "The content for the document is not valid."),
    ("{", "JSON not well-formed."),
])
def test_bad_documents_are_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidDocumentContent) as refused:
        parse(text)
    assert message in refused.value.message


def test_only_schema_1_0_is_a_session_schema() -> None:
    with pytest.raises(InvalidDocumentSchemaVersion):
        parse(change(SHELL, schemaVersion="2.2"))


def test_preferences_may_take_their_values_from_the_documents_parameters() -> None:
    inputs = {**SHELL["inputs"], "s3EncryptionEnabled": "{{ s3EncryptionEnabled }}", "idleSessionTimeout": "{{idle}}"}
    declared = {"s3EncryptionEnabled": {"type": "Boolean", "default": False}, "idle": {"type": "String", "default": "5"}}
    parsed = parse(change(SHELL, inputs=inputs, parameters=declared))
    assert preferences(parsed)["idleSessionTimeout"] == "{{idle}}"
    with pytest.raises(InvalidDocumentContent):
        parse(change(SHELL, inputs={**SHELL["inputs"], "s3EncryptionEnabled": "{{ not closed"}))
