"""The document a SendCommand runs: found (the caller's own, Amazon's or one shared with it), checked to be a
Command document, its parameters checked and completed, and `{{ssm:name}}` references in the values resolved
from Parameter Store by the caller's lookup (so under the caller's permissions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.services import document_parameters, documents
from openssm.services.document_parameters import InvalidParameters
from openssm.services.documents import DocumentVersion, InvalidDocument
from openssm.services.parameter_model import Parameter, Scope

SsmLookup = Callable[[str], str]


def ssm_reference_value(name: str, read: Callable[[], Parameter]) -> str:
    """The value `{{ssm:name}}` stands for, as `read` finds the parameter; a SecureString is refused, as Run
    Command does not decrypt into commands."""
    try:
        found = read()
    except AwsError as err:
        raise InvalidParameters(f"Parameter {{{{ssm:{name}}}}} could not be resolved: {err.message}") from err
    if found.version.type == "SecureString":
        raise InvalidParameters(f"Parameter {{{{ssm:{name}}}}} is a SecureString; SecureString parameters "
                                "can't be used in Run Command parameter values.")
    return found.value


@dataclass(frozen=True)
class Plugin:
    """A step as Run Command reports it: schema 1.2 names it by its action, 2.x by the step's name."""

    name: str
    action: str


@dataclass(frozen=True)
class CommandDocument:
    name: str
    version: str
    content: Mapping[str, Any]
    parameters: Mapping[str, Sequence[str]]  # as the caller sent them, which ListCommands shows
    run_parameters: Mapping[str, Any]  # every declared parameter's value, {{ssm:…}} resolved
    plugins: tuple[Plugin, ...]


def plugins_of(content: Mapping[str, Any]) -> tuple[Plugin, ...]:
    if "mainSteps" in content:
        return tuple(Plugin(str(s["name"]), str(s["action"])) for s in content["mainSteps"])
    return tuple(Plugin(str(action), str(action)) for action in content.get("runtimeConfig") or {})


def prepare(conn: Connection, scope: Scope, name: str, version: str | None, supplied: Mapping[str, Sequence[str]],
            lookup: SsmLookup) -> CommandDocument:
    """The document and the values it runs with, checked as AWS checks them."""
    return for_version(documents.find(conn, scope, name, version or None), supplied, lookup)


def for_version(found: DocumentVersion, supplied: Mapping[str, Sequence[str]], lookup: SsmLookup) -> CommandDocument:
    name = found.name
    if found.document_type != "Command":
        raise InvalidDocument(f"Document {name} is a {found.document_type} document; SendCommand runs Command "
                              "documents.")
    # {{ssm:…}} first, so an Integer parameter given {{ssm:/n}} is checked as the number it names.
    given = document_parameters.substitute_ssm({k: list(v) for k, v in supplied.items()}, lookup)
    resolved = document_parameters.resolve(found.name, found.parsed.parameters, given)
    return CommandDocument(found.name, str(found.version), found.parsed.body, {k: list(v) for k, v in supplied.items()},
                           resolved, plugins_of(found.parsed.body))
