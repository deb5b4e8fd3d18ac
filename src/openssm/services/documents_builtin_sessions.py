"""Amazon's Session documents (DocumentType Session) that OpenSSM ships, and the Session Manager preferences an
account has before it writes its own SSM-SessionManagerRunShell.

Where each text comes from is noted beside it. AWS publishes none of these byte for byte; the texts are kept in
the layout AWS serves (`aws ssm get-document` answers two-space JSON without a final newline), but the one Hash
known from a real DescribeDocument (AWS-StartSSHSession) is not reproduced: the content or its layout still
differs somewhere, so Hash is OpenSSM's SHA-256 of the text below, not AWS's.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

SESSION_PLATFORMS = ("Windows", "Linux", "MacOS")  # what DescribeDocument lists for each of them

# The ports a portNumber may name, and a local port (0: "an open port is chosen at run-time"), as AWS's Port
# documents constrain them (copies of AWS-StartPortForwardingSession in amazon-ssm-agent PR #389 and in
# terraform modules quote these patterns).
_PORT = "^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$"
_LOCAL_PORT = "^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$"
# AWS's own StartSession error quotes this pattern for AWS-StartPortForwardingSessionToRemoteHost's host:
# `Parameter "host" has value "…" not matching "^[^,$^&\(\)!;'"<>\`{}\[\]\|#=]{3,}$".`
_HOST = "^[^,$^&\\(\\)!;'\"<>\\`{}\\[\\]\\|#=]{3,}$"
_LOCAL_PORT_TEXT = ("(Optional) Port number on local machine to forward traffic to. An open port is chosen at "
                    "run-time if not provided")


def _text(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=2)


def _port(description: str, parameters: dict[str, Any], properties: dict[str, str]) -> str:
    return _text({"schemaVersion": "1.0", "description": description, "sessionType": "Port",
                  "parameters": parameters, "properties": properties})


def _string(description: str, default: str | None = None, pattern: str | None = None) -> dict[str, str]:
    declared = {"type": "String", "description": description}
    if pattern is not None:
        declared["allowedPattern"] = pattern
    if default is not None:
        declared["default"] = default
    return declared


def _command(session_type: str, description: str) -> str:
    # Reconstructed, not found published: the description, the single `command` parameter (no default, so
    # required) and one `commands` entry per platform match how AWS's CLI examples call these documents
    # (`--parameters command="…"`) and its InteractiveCommands example (`runAsElevated`).
    run = {"commands": "{{command}}", "runAsElevated": False}
    return _text({"schemaVersion": "1.0", "description": description, "sessionType": session_type,
                  "parameters": {"command": {"type": "String", "description": "The command to run on the instance"}},
                  "properties": {"windows": run, "linux": run, "macos": run}})


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
         microsecond: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=dt.UTC)


# name -> (content, when AWS published it: DescribeDocument's CreatedDate)
SESSION_DOCUMENTS: dict[str, tuple[str, dt.datetime]] = {
    # A real `aws ssm describe-document --name AWS-StartSSHSession` (quoted in notes on AWS SSM documents on
    # GitHub): CreatedDate 2019-06-13T07:33:03.766+10:00, one parameter portNumber, default "22", "(Optional)
    # Port number of SSH server on the instance", Hash 5e61c6c179577705beb7aed532731078d4c5cf836abb4d695b0b0f7a7890b114
    # (not reproduced: tried 2- and 4-space, tab and compact layouts, key orders, a final newline, CRLF, and a few
    # descriptions; the description and allowedPattern here are the likeliest, not confirmed).
    "AWS-StartSSHSession": (_port(
        "Document to start SSH session over Session Manager",
        {"portNumber": _string("(Optional) Port number of SSH server on the instance", "22", _PORT)},
        {"portNumber": "{{ portNumber }}"}), _utc(2019, 6, 12, 21, 33, 3, 766000)),
    # Quoted whole in amazon-ssm-agent PR #389 ("a copy of the AWS-StartPortForwardingSession document") and in
    # "AWS SSM Kind of Sucks" (2023); published with port forwarding (AWS News Blog, 2019-08-29).
    "AWS-StartPortForwardingSession": (_port(
        "Document to start port forwarding session over Session Manager",
        {"portNumber": _string("(Optional) Port number of the server on the instance", "80", _PORT),
         "localPortNumber": _string(_LOCAL_PORT_TEXT, "0", _LOCAL_PORT)},
        {"portNumber": "{{ portNumber }}", "type": "LocalPortForwarding", "localPortNumber": "{{ localPortNumber }}"}),
        _utc(2019, 8, 29)),
    # The host declaration as terraform copies of it carry it (pattern confirmed by AWS's error above); the
    # description is reconstructed. Published with remote-host port forwarding (AWS What's New, 2022-05-27).
    "AWS-StartPortForwardingSessionToRemoteHost": (_port(
        "Document to start port forwarding session over Session Manager to a remote host",
        {"portNumber": _string("(Optional) Port number of the server on the instance", "80", _PORT),
         "localPortNumber": _string(_LOCAL_PORT_TEXT, "0", _LOCAL_PORT),
         "host": _string("(Optional) Hostname or IP address of the destination server", "localhost", _HOST)},
        {"portNumber": "{{ portNumber }}", "type": "LocalPortForwarding", "localPortNumber": "{{ localPortNumber }}",
         "host": "{{ host }}"}), _utc(2022, 5, 27)),
    # Dates: when AWS's user guide first documented InteractiveCommands (2020-04) and the Session Manager plugin
    # added NonInteractiveCommands (1.2.54.0, 2021-01-29); the documents' own dates are not published.
    "AWS-StartInteractiveCommand": (_command(
        "InteractiveCommands", "Document to run single interactive command on an instance"), _utc(2020, 4, 16)),
    "AWS-StartNonInteractiveCommand": (_command(
        "NonInteractiveCommands", "Document to run single non-interactive command on an instance"),
        _utc(2021, 1, 29)),
}

PREFERENCES_NAME = "SSM-SessionManagerRunShell"
# What an account's preferences are until it writes its own SSM-SessionManagerRunShell: AWS's template for that
# document ("Create a Session Manager preferences document", its keys in the order the console writes them) with
# Session Manager's defaults — nothing logged, no Run As, a 20-minute idle timeout, no maximum duration. AWS
# creates the document in the account (Owner: the account) when preferences are first saved, so it is the
# account's own, which CreateDocument and UpdateDocument write; it is not one of Amazon's documents.
DEFAULT_PREFERENCES = json.dumps({
    "schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
    "sessionType": "Standard_Stream",
    "inputs": {"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": True, "cloudWatchLogGroupName": "",
               "cloudWatchEncryptionEnabled": True, "idleSessionTimeout": "20", "maxSessionDuration": "",
               "cloudWatchStreamingEnabled": True, "kmsKeyId": "", "runAsEnabled": False, "runAsDefaultUser": "",
               "shellProfile": {"windows": "", "linux": ""}}}, indent=4)
