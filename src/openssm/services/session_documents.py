"""The Session document a StartSession names, as Session Manager reads it: found as the caller may see it (its
own, Amazon's, or one shared with it), checked to be a Session document, its parameters checked and completed
from their defaults, and its preferences (`inputs`) and `properties` with the parameters' values in place.

With no DocumentName, StartSession uses the account's SSM-SessionManagerRunShell, or Session Manager's default
preferences while the account has not written that document (AWS creates it in the account when preferences
are first saved, so it is the account's, not Amazon's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from openssm.protocol.java_regex import JavaRegexError, full_match
from openssm.services import document_parameters, documents, session_document_content
from openssm.services.document_content import DocumentContent
from openssm.services.document_parameters import InvalidParameters, ParameterDeclaration
from openssm.services.documents import DocumentVersion, InvalidDocument
from openssm.services.documents_builtin_sessions import DEFAULT_PREFERENCES, PREFERENCES_NAME
from openssm.services.parameter_model import Scope

__all__ = ["DEFAULT_DOCUMENT", "InvalidDocument", "InvalidParameters", "PreparedSession", "SessionDocument",
           "SessionPreferences", "prepare", "resolve_session_parameters", "session_document"]

DEFAULT_DOCUMENT = PREFERENCES_NAME
IDLE_TIMEOUT_MINUTES = 20  # Session Manager's idle timeout when the preferences set none
# `{{ name }}` as the agent substitutes it; `{{ssm:…}}` (a colon) is Parameter Store's, not a parameter.
_REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")

SsmLookup = Callable[[str], str]


@dataclass(frozen=True)
class SessionPreferences:
    """A document's `inputs`, typed, with Session Manager's defaults where they are absent or empty."""

    s3_bucket_name: str = ""
    s3_key_prefix: str = ""
    s3_encryption_enabled: bool = False
    cloudwatch_log_group_name: str = ""
    cloudwatch_encryption_enabled: bool = False
    cloudwatch_streaming_enabled: bool = False
    kms_key_id: str = ""
    run_as_enabled: bool = False
    run_as_default_user: str = ""
    idle_session_timeout_minutes: int = IDLE_TIMEOUT_MINUTES
    max_session_duration_minutes: int | None = None  # no limit
    shell_profile_windows: str = ""
    shell_profile_linux: str = ""


@dataclass(frozen=True)
class SessionDocument:
    """A Session document as StartSession runs it (one version: StartSession always takes the latest)."""

    name: str
    arn: str
    owner: str  # an account id, or "Amazon"
    version: str  # "" for Session Manager's default preferences, which are stored nowhere
    session_type: str  # Standard_Stream, Port, InteractiveCommands or NonInteractiveCommands
    description: str
    parameters: tuple[ParameterDeclaration, ...]
    inputs: Mapping[str, Any]
    properties: Mapping[str, Any]
    body: Mapping[str, Any]  # the whole document, parsed

    @property
    def is_default_preferences(self) -> bool:
        return self.version == ""

    def preferences(self, values: Mapping[str, Sequence[str]] | None = None) -> SessionPreferences:
        """The preferences with `values` (from resolve_session_parameters) in place; with none, each
        parameter's default."""
        return _preferences(_substitute(dict(self.inputs), self._values(values)))

    def resolved_properties(self, values: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
        """`properties` with the parameters' values in place: what the node is told (a port and host, or the
        commands per platform)."""
        return dict(_substitute(dict(self.properties), self._values(values)))

    def resolved_content(self, values: Mapping[str, Sequence[str]] | None = None) -> dict[str, Any]:
        """The whole document with the parameters' values in its `inputs` and `properties`."""
        given = self._values(values)
        content = dict(self.body)
        for key in ("inputs", "properties"):
            if key in content:
                content[key] = _substitute(content[key], given)
        return content

    def _values(self, values: Mapping[str, Sequence[str]] | None) -> Mapping[str, Sequence[str]]:
        if values is not None:
            return values
        return {d.name: _texts(d.default) for d in self.parameters if d.has_default}


@dataclass(frozen=True)
class PreparedSession:
    """Everything StartSession settles from its document before the session exists."""

    document: SessionDocument
    parameters: dict[str, list[str]]  # every declared parameter: the caller's value or the default
    preferences: SessionPreferences
    properties: dict[str, Any]
    content: dict[str, Any]  # the document with the parameters' values in place


def session_document(conn: Connection, scope: Scope, name_or_arn: str | None) -> SessionDocument:
    """The Session document StartSession's DocumentName names (SSM-SessionManagerRunShell when it names none),
    at its latest version. Raises InvalidDocument (unknown, not visible to the caller, or not a Session
    document) as AWS does."""
    name = name_or_arn or DEFAULT_DOCUMENT
    # "$LATEST": AWS's guide updates preferences with update-document alone, never moving the default version,
    # and users report sessions start from the latest version (aws/session-manager-plugin#112).
    try:
        found = documents.find(conn, scope, name, "$LATEST")
    except InvalidDocument:
        if name != DEFAULT_DOCUMENT:
            raise
        return _default_preferences(scope)
    if found.document_type != "Session":
        # AWS's words (Session Manager troubleshooting: "An error occurred (InvalidDocument) when calling the
        # StartSession operation").
        raise InvalidDocument(f"Document type: '{found.document_type}' is not supported. Only type: 'Session' is "
                              "supported for Session Manager.")
    return _from_version(found)


def _from_version(found: DocumentVersion) -> SessionDocument:
    return _document(found.name, found.arn, found.owner, str(found.version), found.parsed)


def _document(name: str, arn: str, owner: str, version: str, parsed: DocumentContent) -> SessionDocument:
    body = parsed.body
    return SessionDocument(name, arn, owner, version, session_document_content.session_type(parsed),
                           parsed.description, parsed.parameters, dict(body.get("inputs") or {}),
                           dict(body.get("properties") or {}), body)


def _default_preferences(scope: Scope) -> SessionDocument:
    arn = f"arn:aws:ssm:{scope.region}:{scope.account_id}:document/{DEFAULT_DOCUMENT}"
    return _document(DEFAULT_DOCUMENT, arn, scope.account_id, "", session_document_content.parse(DEFAULT_PREFERENCES))


def resolve_session_parameters(document: SessionDocument, given: Mapping[str, Sequence[str]], *,
                               lookup: SsmLookup | None = None) -> dict[str, list[str]]:
    """Every declared parameter's value as text: the caller's (checked against its declaration) or its default.
    `{{ssm:name}}` references are resolved by `lookup` when one is given. Raises InvalidParameters."""
    values: dict[str, list[str]] = {k: list(v) for k, v in given.items()}
    if lookup is not None:
        values = {k: [str(t) for t in v] for k, v in document_parameters.substitute_ssm(values, lookup).items()}
    declared = {d.name: d for d in document.parameters}
    unknown = [name for name in values if name not in declared]
    if unknown:  # guessed, in the words of SendCommand's reason
        raise InvalidParameters(f"Parameters [{', '.join(unknown)}] are not defined in the document.")
    for name, texts in values.items():
        _check_pattern(declared[name], texts)
    try:
        typed = document_parameters.resolve(document.name, document.parameters, values)
    except InvalidParameters as err:
        # SendCommand hides the rule behind one sentence; StartSession names it, as it does for a pattern.
        raise InvalidParameters(err.reason) from err
    return {d.name: values[d.name] if d.name in values else _texts(typed[d.name]) for d in document.parameters}


def _check_pattern(declared: ParameterDeclaration, texts: Sequence[str]) -> None:
    """AWS's words for a value that breaks allowedPattern (a real StartSession answer with
    AWS-StartPortForwardingSessionToRemoteHost): `Parameter "host" has value "…" not matching "<pattern>".`"""
    if declared.allowed_pattern is None or declared.type not in ("String", "StringList"):
        return
    for text in texts:
        try:
            matches = full_match(declared.allowed_pattern, text)
        except JavaRegexError:
            matches = False
        if not matches:
            raise InvalidParameters(f"Parameter \"{declared.name}\" has value \"{text}\" not matching "
                                    f"\"{declared.allowed_pattern}\".")


def prepare(conn: Connection, scope: Scope, name_or_arn: str | None, given: Mapping[str, Sequence[str]], *,
            lookup: SsmLookup | None = None) -> PreparedSession:
    """StartSession's document, parameters, preferences and properties, checked as AWS checks them."""
    document = session_document(conn, scope, name_or_arn)
    values = resolve_session_parameters(document, given, lookup=lookup)
    return PreparedSession(document, values, document.preferences(values), document.resolved_properties(values),
                           document.resolved_content(values))


def _texts(value: Any) -> list[str]:
    """A typed value (a default, or what resolve typed) as StartSession's list of strings."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, (dict, list)):
        return [json.dumps(value)]
    return [str(value)]


def _substitute(value: Any, values: Mapping[str, Sequence[str]]) -> Any:
    if isinstance(value, str):
        return _REFERENCE.sub(lambda m: ",".join(values[m.group(1)]) if m.group(1) in values else m.group(0),
                              value)
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    if isinstance(value, Mapping):
        return {k: _substitute(v, values) for k, v in value.items()}
    return value


def _flag(value: Any) -> bool:
    return value is True or value == "true"


def _minutes(value: Any, default: int | None) -> int | None:
    if isinstance(value, bool):
        return default
    text = str(value).strip() if isinstance(value, int | str) else ""
    return int(text) if text.isdigit() else default


def _preferences(inputs: Mapping[str, Any]) -> SessionPreferences:
    profile = inputs.get("shellProfile")
    shell: Mapping[str, Any] = profile if isinstance(profile, Mapping) else {}

    def text(key: str, source: Mapping[str, Any] = inputs) -> str:
        value = source.get(key)
        return value if isinstance(value, str) else ""

    return SessionPreferences(
        text("s3BucketName"), text("s3KeyPrefix"), _flag(inputs.get("s3EncryptionEnabled")),
        text("cloudWatchLogGroupName"), _flag(inputs.get("cloudWatchEncryptionEnabled")),
        _flag(inputs.get("cloudWatchStreamingEnabled")), text("kmsKeyId"), _flag(inputs.get("runAsEnabled")),
        text("runAsDefaultUser"), _minutes(inputs.get("idleSessionTimeout"), IDLE_TIMEOUT_MINUTES) or
        IDLE_TIMEOUT_MINUTES, _minutes(inputs.get("maxSessionDuration"), None), text("windows", shell),
        text("linux", shell))
