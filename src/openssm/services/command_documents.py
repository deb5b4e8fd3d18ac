"""The command documents Run Command can send before the documents service lands: AWS-RunShellScript and
AWS-RunPowerShellScript (AWS's parameters: commands, workingDirectory, executionTimeout), their parameter
rules, and the values an invocation runs with."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openssm.errors import AwsError

_TIMEOUT_PATTERN = r"([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"


def _shell_document(action: str, description: str) -> dict[str, Any]:
    return {
        "schemaVersion": "2.2",
        "description": description,
        "parameters": {
            "commands": {"type": "StringList", "description": "(Required) Specify a shell script or a command to "
                         "run.", "minItems": 1, "displayType": "textarea"},
            "workingDirectory": {"type": "String", "default": "", "description": "(Optional) The path to the "
                                 "working directory on your instance.", "maxChars": 4096},
            "executionTimeout": {"type": "String", "default": "3600", "description": "(Optional) The time in "
                                 "seconds for a command to complete before it is considered to have failed. "
                                 "Default is 3600 (1 hour). Maximum is 172800 (48 hours).",
                                 "allowedPattern": _TIMEOUT_PATTERN},
        },
        "mainSteps": [{"action": action, "name": action.split(":")[1],
                       "inputs": {"runCommand": "{{ commands }}", "workingDirectory": "{{ workingDirectory }}",
                                  "timeoutSeconds": "{{ executionTimeout }}"}}],
    }


BUILT_IN: dict[str, dict[str, Any]] = {
    "AWS-RunShellScript": _shell_document("aws:runShellScript", "Run a shell script or specify the commands to run."),
    "AWS-RunPowerShellScript": _shell_document("aws:runPowerShellScript",
                                               "Run a PowerShell script or specify the paths to scripts to run."),
}


class InvalidDocument(AwsError):
    code = "InvalidDocument"


class InvalidParameters(AwsError):
    code = "InvalidParameters"


@dataclass(frozen=True)
class CommandDocument:
    name: str
    content: Mapping[str, Any]
    parameters: Mapping[str, Any]  # StringList values as lists, String values as strings

    @property
    def platform_action(self) -> str:
        return str(self.content["mainSteps"][0]["action"])


def prepare(name: str, version: str | None, supplied: Mapping[str, Sequence[str]]) -> CommandDocument:
    """The document and the parameter values it runs with, checked as AWS checks them."""
    content = BUILT_IN.get(name)
    if content is None:
        raise InvalidDocument("Document with that name does not exist.")
    if version not in (None, "", "$DEFAULT", "$LATEST", "1"):
        raise InvalidDocument(f"Document {name} does not have version {version}.")
    declared: Mapping[str, Any] = content["parameters"]
    unknown = sorted(set(supplied) - set(declared))
    if unknown:
        raise InvalidParameters(f"Parameters {unknown} are not defined in the document {name}.")
    values: dict[str, Any] = {}
    for key, spec in declared.items():
        given = list(supplied[key]) if key in supplied else None
        if spec["type"] == "StringList":
            if not given and "default" not in spec:
                raise InvalidParameters(f"Parameter \"{key}\" is required in the document {name} but missing.")
            values[key] = given if given is not None else spec["default"]
            continue
        value = given[0] if given else str(spec.get("default", ""))
        if given is not None and len(given) != 1:
            raise InvalidParameters(f"Parameter \"{key}\" takes one value.")
        pattern = spec.get("allowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            raise InvalidParameters(f"Parameter \"{key}\" \"{value}\" failed to satisfy constraint: Member must "
                                    f"satisfy regular expression pattern: {pattern}")
        values[key] = value
    return CommandDocument(name, content, values)
