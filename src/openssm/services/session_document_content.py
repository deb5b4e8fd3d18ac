"""Session documents (DocumentType Session) checked as CreateDocument and UpdateDocument check them, after AWS's
"Session document schema": schemaVersion 1.0; a sessionType of Standard_Stream, Port, InteractiveCommands or
NonInteractiveCommands; `inputs` (the session preferences: logging, Run As, shell profiles, idle timeout 1–60
minutes, maximum duration 1–1,440 minutes); `parameters` as Command documents declare them; `properties` for
the session (a port, or the commands to run per platform).

AWS's messages for a bad Session document are not published; those here follow the Command documents' ("Unknown
property", "is not declared") and say which element is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from openssm.services.document_content import (
    DocumentContent,
    InvalidDocumentContent,
    InvalidDocumentSchemaVersion,
    declarations,
    load_body,
    references,
)

_REFERENCE = re.compile(r"\{\{\s*[A-Za-z0-9_.-]+\s*\}\}")
# AWS's ShellProperties: NonInteractiveCommands may send stderr and the exit code apart from stdout.
_COMMAND_PROPERTIES = frozenset({"commands", "runAsElevated", "separateOutputStream", "stdOutSeparatorPrefix",
                                 "stdErrSeparatorPrefix"})
SESSION_TYPES = ("Standard_Stream", "Port", "InteractiveCommands", "NonInteractiveCommands")
PLATFORMS = ("Windows", "Linux", "MacOS")  # what DescribeDocument lists for AWS's own Session documents
_TOP_LEVEL = frozenset({"schemaVersion", "description", "sessionType", "inputs", "parameters", "properties"})
IDLE_TIMEOUT_MINUTES = (1, 60)
MAX_DURATION_MINUTES = (1, 1440)


def _text(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidDocumentContent(f"Invalid value for input \"{name}\"; it must be a string.")


def _parameter_reference(value: Any) -> bool:
    """`{{ name }}`: a value the session's parameters give (AWS's parameterised preferences example)."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value.strip()) is not None


def _flag(name: str, value: Any) -> None:
    # YAML and hand-written JSON both give "true"/"false" strings often; AWS's examples use booleans.
    if not isinstance(value, bool) and value not in ("true", "false") and not _parameter_reference(value):
        raise InvalidDocumentContent(f"Invalid value for input \"{name}\"; it must be true or false.")


def _minutes(bounds: tuple[int, int], allow_empty: bool) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if (allow_empty and value in ("", None)) or _parameter_reference(value):
            return
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text.isdigit() or not bounds[0] <= int(text) <= bounds[1]:
            raise InvalidDocumentContent(f"Invalid value for input \"{name}\"; it must be a number of minutes from "
                                         f"{bounds[0]} to {bounds[1]}.")
    return check


def _shell_profile(name: str, value: Any) -> None:
    if not isinstance(value, dict) or any(k not in ("windows", "linux") or not isinstance(v, str)
                                          for k, v in value.items()):
        raise InvalidDocumentContent(f"Invalid value for input \"{name}\"; it must map windows and linux to "
                                     "commands.")


_INPUTS: dict[str, Callable[[str, Any], None]] = {
    "s3BucketName": _text, "s3KeyPrefix": _text, "s3EncryptionEnabled": _flag,
    "cloudWatchLogGroupName": _text, "cloudWatchEncryptionEnabled": _flag, "cloudWatchStreamingEnabled": _flag,
    "kmsKeyId": _text, "runAsEnabled": _flag, "runAsDefaultUser": _text,
    # AWS's own preferences template leaves it empty: the default (20 minutes) applies.
    "idleSessionTimeout": _minutes(IDLE_TIMEOUT_MINUTES, allow_empty=True),
    "maxSessionDuration": _minutes(MAX_DURATION_MINUTES, allow_empty=True),
    "shellProfile": _shell_profile,
}
_PORT_PROPERTIES = frozenset({"portNumber", "type", "localPortNumber", "host"})
_COMMAND_PLATFORMS = frozenset({"windows", "linux", "macos"})


def _check_inputs(inputs: Any) -> None:
    """Any session type may carry preferences (a Port document its own idle timeout, as SageMaker's SSH
    document does); a Standard_Stream document is where AWS keeps an account's."""
    if inputs is None:
        return
    if not isinstance(inputs, dict):
        raise InvalidDocumentContent("Invalid \"inputs\" in the document; it must be an object.")
    for name, value in inputs.items():
        check = _INPUTS.get(name)
        if check is None:
            raise InvalidDocumentContent(f"Unknown property \"{name}\" in inputs.")
        check(name, value)


def _check_properties(session_type: str, properties: Any) -> None:
    if properties is None:
        if session_type in ("InteractiveCommands", "NonInteractiveCommands"):
            raise InvalidDocumentContent(f"Missing \"properties\" with the commands of a {session_type} document.")
        return
    if not isinstance(properties, dict):
        raise InvalidDocumentContent("Invalid \"properties\" in the document; it must be an object.")
    if session_type == "Port":
        unknown = sorted(set(properties) - _PORT_PROPERTIES)
        if unknown:
            raise InvalidDocumentContent(f"Unknown property \"{unknown[0]}\" in properties of a Port document.")
        if not all(isinstance(v, str) for v in properties.values()):
            raise InvalidDocumentContent("Invalid \"properties\" of a Port document; values must be strings.")
        return
    if session_type == "Standard_Stream":
        raise InvalidDocumentContent("\"properties\" apply to Port and command sessions, not Standard_Stream.")
    for platform, spec in properties.items():
        if platform not in _COMMAND_PLATFORMS:
            raise InvalidDocumentContent(f"Unknown property \"{platform}\" in properties; use windows, linux or "
                                         "macos.")
        if not isinstance(spec, dict) or "commands" not in spec or set(spec) - _COMMAND_PROPERTIES:
            raise InvalidDocumentContent(f"Invalid \"properties\" for {platform}; give \"commands\" and "
                                         "optionally \"runAsElevated\", \"separateOutputStream\", "
                                         "\"stdOutSeparatorPrefix\" and \"stdErrSeparatorPrefix\".")
        commands = spec["commands"]
        if not (isinstance(commands, str) or (isinstance(commands, list)
                                              and all(isinstance(c, str) for c in commands))):
            raise InvalidDocumentContent(f"Invalid \"commands\" for {platform}; it must be text or a list of text.")


def parse(text: str, document_format: str = "JSON") -> DocumentContent:
    """Read and check a Session document; raise InvalidDocumentContent or InvalidDocumentSchemaVersion."""
    body = load_body(text, document_format)
    if not isinstance(body, dict) or not all(isinstance(k, str) for k in body):
        raise InvalidDocumentContent("The content for the document is not valid.")
    if "schemaVersion" not in body:
        raise InvalidDocumentContent("Missing \"schemaVersion\" in the document.")
    if body["schemaVersion"] != "1.0":
        raise InvalidDocumentSchemaVersion(f"{body['schemaVersion']} is not a valid schema version for Session "
                                           "document type")
    unknown = [k for k in body if k not in _TOP_LEVEL]
    if unknown:
        raise InvalidDocumentContent(f"Unknown property \"{unknown[0]}\".")
    session_type = body.get("sessionType")
    if session_type not in SESSION_TYPES:
        raise InvalidDocumentContent(f"Invalid \"sessionType\" {session_type!r}; it must be one of "
                                     f"{', '.join(SESSION_TYPES)}.")
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidDocumentContent("Invalid \"description\" in the document; it must be a string.")
    declared = declarations(body.get("parameters"))
    _check_inputs(body.get("inputs"))
    _check_properties(session_type, body.get("properties"))
    names = {d.name for d in declared}
    for name in references([body.get("inputs"), body.get("properties")]):
        if name not in names:
            raise InvalidDocumentContent(f"Parameter \"{name}\" is not declared.")
    return DocumentContent(body, "1.0", description or "", declared, PLATFORMS, ())


def session_type(content: DocumentContent) -> str:
    return str(content.body["sessionType"])


def preferences(content: DocumentContent) -> Mapping[str, Any]:
    """The session preferences the document sets (its `inputs`)."""
    return dict(content.body.get("inputs") or {})
