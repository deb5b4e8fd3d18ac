"""The documents Amazon owns that OpenSSM ships, with AWS's content: Run Command's AWS-RunShellScript and
AWS-RunPowerShellScript, schema 1.2 documents as AWS publishes them, and Session Manager's Session documents
(documents_builtin_sessions)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from openssm.services import documents_builtin_associations, documents_builtin_inventory, documents_builtin_patch
from openssm.services.documents_builtin_sessions import SESSION_DOCUMENTS, SESSION_PLATFORMS

AMAZON = "Amazon"
# When AWS published them; what DescribeDocument's CreatedDate says.
PUBLISHED = dt.datetime(2016, 11, 18, tzinfo=dt.UTC)
_TIMEOUT_PATTERN = "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"


def _run_script(action: str, description: str, commands_description: str, timeout_description: str) -> str:
    """AWS's text, byte for byte: this layout gives the Hash a real DescribeDocument reports for each."""
    content: dict[str, Any] = {
        "schemaVersion": "1.2",
        "description": description,
        "parameters": {
            "commands": {"type": "StringList", "description": commands_description, "minItems": 1,
                         "displayType": "textarea"},
            "workingDirectory": {"type": "String", "default": "",
                                 "description": "(Optional) The path to the working directory on your instance.",
                                 "maxChars": 4096},
            "executionTimeout": {"type": "String", "default": "3600", "description": timeout_description,
                                 "allowedPattern": _TIMEOUT_PATTERN},
        },
        "runtimeConfig": {action: {"properties": [{
            "id": f"0.{action}", "runCommand": "{{ commands }}", "workingDirectory": "{{ workingDirectory }}",
            "timeoutSeconds": "{{ executionTimeout }}"}]}},
    }
    return json.dumps(content, indent=4, separators=(",", ":")) + "\n"


def _timeout_text(verb: str) -> str:
    return (f"(Optional) The time in seconds for a command to {verb} before it is considered to have failed. "
            "Default is 3600 (1 hour). Maximum is 172800 (48 hours).")


@dataclass(frozen=True)
class BuiltInDocument:
    """One of Amazon's documents: its text, what DescribeDocument says of it, and when AWS published it."""

    content: str
    platform_types: tuple[str, ...]  # as AWS lists them
    document_type: str = "Command"
    created_at: dt.datetime = PUBLISHED


BUILT_IN: dict[str, BuiltInDocument] = {
    "AWS-RunShellScript": BuiltInDocument(_run_script(
        "aws:runShellScript", "Run a shell script or specify the commands to run.",
        "(Required) Specify a shell script or a command to run.", _timeout_text("complete")), ("Linux", "MacOS")),
    "AWS-RunPowerShellScript": BuiltInDocument(_run_script(
        "aws:runPowerShellScript", "Run a PowerShell script or specify the paths to scripts to run.",
        "(Required) Specify the commands to run or the paths to existing scripts on the instance.",
        _timeout_text("be completed")), ("Windows", "Linux")),
    **{name: BuiltInDocument(content, SESSION_PLATFORMS, "Session", published)
       for name, (content, published) in SESSION_DOCUMENTS.items()},
    **{name: BuiltInDocument(content, platforms, "Command", published)
       for module in (documents_builtin_associations, documents_builtin_inventory, documents_builtin_patch)
       for name, (content, platforms, published) in module.DOCUMENTS.items()},
}
