"""A Command document's content read and checked as SSM checks it on CreateDocument and UpdateDocument: JSON
or YAML; schema 1.2 (runtimeConfig) or 2.0/2.2 (mainSteps, preconditions from 2.2); the plugins OpenSSM's
agent runs; parameter declarations and the `{{ name }}` references steps make to them. Pure: no I/O.

AWS publishes few of these messages. Each says where its wording comes from; "guessed" ones are written in
the style of the known ones."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from openssm.errors import AwsError, ValidationError
from openssm.protocol.java_regex import JavaRegexError, compile_java
from openssm.services.document_parameters import (
    PARAMETER_TYPES,
    ConstraintFailed,
    ParameterDeclaration,
    WrongType,
    check_typed,
)

__all__ = ["COMMAND_SCHEMAS", "PLUGIN_PLATFORMS", "DocumentContent", "InvalidDocumentContent",
           "InvalidDocumentSchemaVersion", "ParameterDeclaration", "parse", "render", "sha256"]

COMMAND_SCHEMAS = ("1.2", "2.0", "2.2")
# The plugins OpenSSM's agent runs, with the platforms DescribeDocument lists for them: AWS-RunShellScript
# says ["Linux", "MacOS"], AWS-RunPowerShellScript ["Windows", "Linux"] (a real DescribeDocument answer:
# https://til.juliusgamanyi.com/posts/aws-ssm-send-commands-to-run-on-remote-windows-ec2/).
PLUGIN_PLATFORMS: dict[str, tuple[str, ...]] = {
    "aws:runShellScript": ("Linux", "MacOS"),
    "aws:runPowerShellScript": ("Windows", "Linux"),
    # State Manager's and Inventory's own steps (AWS-RefreshAssociation, AWS-GatherSoftwareInventory).
    "aws:refreshAssociation": ("Windows", "Linux", "MacOS"),
    "aws:softwareInventory": ("Windows", "Linux", "MacOS"),
    # Patch Manager's step in AWS-RunPatchBaseline (OpenSSM's agent patches Linux nodes).
    "aws:runPatchBaseline": ("Linux",),
}
# AWS's other Command plugins (SSM's "Command document plugin reference"): real, but not run by OpenSSM.
_AWS_ONLY_PLUGINS = frozenset({
    "aws:applications", "aws:cloudWatch", "aws:configureDocker", "aws:configurePackage", "aws:domainJoin",
    "aws:downloadContent", "aws:psModule", "aws:runDockerAction", "aws:runDocument", "aws:updateAgent",
    "aws:updateSsmAgent"})
_PLATFORMS = ("Windows", "Linux", "MacOS")
_TOP_LEVEL = {"1.2": frozenset({"schemaVersion", "description", "parameters", "runtimeConfig"}),
              "2.x": frozenset({"schemaVersion", "description", "parameters", "mainSteps"})}
_PLUGIN_KEYS = frozenset({"properties", "description", "settings"})
_STEP_KEYS = frozenset({"action", "name", "inputs", "precondition", "description", "settings", "maxAttempts",
                        "timeoutSeconds", "onFailure", "onSuccess", "finallyStep", "isCritical"})
_INPUT_KEYS = frozenset({"id", "runCommand", "workingDirectory", "timeoutSeconds"})
# aws:softwareInventory's inputs (AWS-GatherSoftwareInventory's parameters, each a string or a reference).
_INVENTORY_INPUTS = frozenset({"applications", "awsComponents", "files", "networkConfig", "windowsUpdates",
                               "instanceDetailedInformation", "services", "windowsRoles", "customInventory",
                               "windowsRegistry", "billingInfo", "customInventoryDirectory"})
# aws:runPatchBaseline's inputs (AWS-RunPatchBaseline's parameters).
_PATCH_INPUTS = frozenset({"Operation", "SnapshotId", "InstallOverrideList", "BaselineOverride", "RebootOption"})
_PARAMETER_KEYS = frozenset({"type", "description", "default", "allowedValues", "allowedPattern", "displayType",
                             "minItems", "maxItems", "minChars", "maxChars", "interpolationType"})
# AWS's agent accepts only these names (agent/framework/docparser/parameters/parameters.go, paramNameRegex).
_PARAMETER_NAME = re.compile(r"^[a-zA-Z0-9]+$")
# Not published by AWS; the agent uses the name as a directory, so no separators. Uncertain.
_STEP_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,100}$")
# `{{ name }}` as the agent substitutes it; `{{ssm:…}}` and other prefixed forms are not document parameters.
_REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_SSM_REFERENCE = re.compile(r"\{\{\s*ssm(-secure)?:")


class _YamlLoader(yaml.SafeLoader):
    """The safe loader without YAML 1.1's timestamps: a document is JSON's data model, where a date is text."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class InvalidDocumentContent(AwsError):
    code = "InvalidDocumentContent"


class InvalidDocumentSchemaVersion(AwsError):
    code = "InvalidDocumentSchemaVersion"


@dataclass(frozen=True)
class DocumentContent:
    """A checked document: the parsed body and what DescribeDocument reports from it."""

    body: Mapping[str, Any]
    schema_version: str
    description: str
    parameters: tuple[ParameterDeclaration, ...]
    platform_types: tuple[str, ...]
    actions: tuple[str, ...]  # in the order steps first use them


@dataclass(frozen=True)
class _Step:
    action: str
    name: str
    inputs: Mapping[str, Any]
    precondition: Any = None


def _invalid(message: str) -> InvalidDocumentContent:
    return InvalidDocumentContent(message)


def load_body(text: str, document_format: str) -> Any:
    if document_format == "JSON":
        try:
            return json.loads(text)
        except ValueError as err:  # third-party notes quote AWS's "InvalidDocumentContent: JSON not well-formed"
            raise _invalid("JSON not well-formed.") from err
    if document_format == "YAML":
        try:
            return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader: no arbitrary objects
        except yaml.YAMLError as err:  # guessed, by analogy with JSON
            raise _invalid("YAML not well-formed.") from err
    # moto's wording (moto/ssm/models.py, _validate_document_format); Command documents have no TEXT form.
    raise ValidationError(f"Invalid document format {document_format}")


def _declaration(name: Any, spec: Any) -> ParameterDeclaration:
    if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
        raise _invalid(f"Parameter name \"{name}\" is not alpha-numeric.")
    if not isinstance(spec, dict):
        raise _invalid(f"Invalid definition of parameter \"{name}\"; it must be an object.")  # guessed
    unknown = sorted(str(k) for k in set(spec) - _PARAMETER_KEYS)
    if unknown:
        raise _invalid(f"Unknown property \"{unknown[0]}\" in parameter definition.")  # guessed
    if "type" not in spec:
        raise _invalid("Missing \"type\" in parameter definition.")
    kind = spec["type"]
    if kind not in PARAMETER_TYPES:
        raise _invalid(f"Parameter type: {kind} is invalid.")
    allowed = spec.get("allowedValues")
    if allowed is not None and not (isinstance(allowed, list) and allowed
                                    and all(isinstance(v, (str, int, float)) for v in allowed)):
        raise _invalid("Invalid \"allowedValues\" in parameter definition; it must be a non-empty list of "
                       "values.")  # guessed
    pattern = spec.get("allowedPattern")
    if pattern is not None:
        try:
            compile_java(str(pattern))
        except JavaRegexError as err:
            raise _invalid(f"Invalid \"allowedPattern\" in parameter definition: {pattern} is not a valid "
                           "regular expression.") from err  # guessed
    limits: dict[str, int | None] = {}
    for key in ("minChars", "maxChars", "minItems", "maxItems"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise _invalid(f"Invalid \"{key}\" in parameter definition; it must be a non-negative integer.")
        limits[key] = value
    display = spec.get("displayType")
    return ParameterDeclaration(
        name, kind, str(spec.get("description") or ""), "default" in spec, spec.get("default"),
        tuple(v if isinstance(v, str) else json.dumps(v) for v in allowed) if allowed else None,
        str(pattern) if pattern is not None else None, limits["minChars"], limits["maxChars"],
        limits["minItems"], limits["maxItems"], str(display) if display is not None else None)


def _check_default(d: ParameterDeclaration) -> None:
    """A default must be a value of the parameter's type that its own constraints accept. A default holding a
    `{{ssm:…}}` reference is only resolved at run time, so only its type is checked."""
    if isinstance(d.default, str) and _SSM_REFERENCE.search(d.default):
        return
    try:
        check_typed(d, d.default)
    except WrongType as err:  # AWS's wording, grammar included, per a third-party list of its messages
        raise _invalid(f"Wrong default value for a \"{d.type}\" parameters") from err
    except ConstraintFailed as err:
        raise _invalid(f"Default value of parameter \"{d.name}\" is not valid. {err}") from err  # guessed


def declarations(raw: Any) -> tuple[ParameterDeclaration, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _invalid("Invalid \"parameters\" in the document; it must be an object.")  # guessed
    declared = tuple(_declaration(k, v) for k, v in raw.items())
    for d in declared:
        if d.has_default:
            _check_default(d)
    return declared


def _steps_1_2(body: Mapping[str, Any]) -> list[_Step]:
    config = body.get("runtimeConfig")
    if not isinstance(config, dict) or not config:
        raise _invalid("Missing \"runtimeConfig\" in the document.")
    steps: list[_Step] = []
    for action, plugin in config.items():
        unknown = sorted(str(k) for k in set(plugin) - _PLUGIN_KEYS) if isinstance(plugin, dict) else []
        if unknown:
            raise _invalid(f"Unknown property \"{unknown[0]}\" in plugin {action}.")  # guessed
        properties = plugin.get("properties") if isinstance(plugin, dict) else None
        if isinstance(properties, dict):
            properties = [properties]
        if not isinstance(properties, list) or not properties or not all(isinstance(p, dict) for p in properties):
            raise _invalid(f"Missing \"properties\" in plugin {action}.")  # guessed
        steps.extend(_Step(str(action), str(action), p) for p in properties)
    return steps


def _step(raw: Any, seen: set[str]) -> _Step:
    if not isinstance(raw, dict):
        raise _invalid("Invalid step detail in mainSteps; each step must be an object.")  # guessed
    for key in ("action", "name"):
        if key not in raw:
            raise _invalid(f"Missing \"{key}\" in step detail.")
    unknown = sorted(str(k) for k in set(raw) - _STEP_KEYS)
    if unknown:
        raise _invalid(f"Unknown property \"{unknown[0]}\" in step detail.")  # guessed
    name = raw["name"]
    if not isinstance(name, str) or not _STEP_NAME.match(name):
        raise _invalid(f"StepName: {name} is invalid.")
    if name in seen:
        raise _invalid("Duplicate step names found in mainSteps of the document.")
    seen.add(name)
    if "inputs" not in raw:
        raise _invalid("Missing \"inputs\" in step detail.")  # by analogy with name and action
    if not isinstance(raw["inputs"], dict):
        raise _invalid(f"Invalid \"inputs\" in step {name}; it must be an object.")  # guessed
    return _Step(str(raw["action"]), name, raw["inputs"], raw.get("precondition"))


def _steps_2_x(body: Mapping[str, Any]) -> list[_Step]:
    main = body.get("mainSteps")
    if not isinstance(main, list) or not main:
        raise _invalid("Missing \"mainSteps\" in the document.")
    seen: set[str] = set()
    return [_step(raw, seen) for raw in main]


def _check_precondition(step: _Step, schema: str) -> None:
    """AWS's one operator, StringEquals, between two different strings: `platformType` and a platform, or
    operands of which one references a document parameter (the agent's rules, runpluginutil.go)."""
    if schema != "2.2":  # guessed wording; the rule is AWS's (preconditions came with schema 2.2)
        raise _invalid(f"Invalid precondition in step {step.name}; preconditions need schema version 2.2.")
    if not isinstance(step.precondition, dict) or not step.precondition:
        raise _invalid(f"Invalid precondition in step {step.name}; it must be an object.")  # guessed
    for operator, operands in step.precondition.items():
        # The agent's own words for each broken rule, after "Invalid precondition, " (guessed for the service).
        if operator != "StringEquals":
            raise _invalid(f"Invalid precondition, unrecognized operator: \"{operator}\" encountered.")
        if not isinstance(operands, list) or len(operands) != 2 or not all(isinstance(o, str) for o in operands):
            raise _invalid("Invalid precondition, \"StringEquals\": operator accepts exactly 2 arguments.")
        first, second = operands
        if first == second:
            raise _invalid("Invalid precondition, \"StringEquals\": operator's arguments can't be identical.")
        if any(_SSM_REFERENCE.search(o) for o in operands):
            raise _invalid("Invalid precondition, \"StringEquals\": operator's arguments can't contain SSM "
                           "parameters.")
        if "platformType" in operands:
            platform = second if first == "platformType" else first
            if platform not in _PLATFORMS:  # the value's wording from a third-party list of AWS's messages
                raise _invalid(f"Invalid precondition, unrecognized values [{first}, {second}] encountered.")
        elif not any(_REFERENCE.search(o) for o in operands):
            raise _invalid("Invalid precondition, \"StringEquals\": at least one of operator's arguments must "
                           "contain a valid document parameter.")


def _is_reference(value: str) -> bool:
    return _REFERENCE.fullmatch(value.strip()) is not None


def _check_inputs(step: _Step) -> None:
    if step.action not in PLUGIN_PLATFORMS:
        if step.action in _AWS_ONLY_PLUGINS:  # OpenSSM's own message: AWS would accept the document
            raise _invalid(f"Plugin {step.action} is not supported by OpenSSM. Command documents here use "
                           f"{', '.join(list(PLUGIN_PLATFORMS)[:-1])} or {list(PLUGIN_PLATFORMS)[-1]}.")
        raise _invalid(f"Unknown plugin name: {step.action}")
    if step.action == "aws:refreshAssociation":
        _check_known_inputs(step, frozenset({"associationIds"}))
        ids = step.inputs.get("associationIds")
        if ids is not None and not (isinstance(ids, list) or (isinstance(ids, str) and _is_reference(ids))):
            raise _invalid(f"Invalid \"associationIds\" in step {step.name}; it must be a list of association "
                           "ids or a parameter reference.")  # guessed
        return
    if step.action in ("aws:softwareInventory", "aws:runPatchBaseline"):
        _check_known_inputs(step, _INVENTORY_INPUTS if step.action == "aws:softwareInventory" else _PATCH_INPUTS)
        if not all(isinstance(value, str) for value in step.inputs.values()):
            raise _invalid(f"The inputs of step {step.name} must be strings or parameter references.")  # guessed
        return
    _check_known_inputs(step, _INPUT_KEYS)
    commands = step.inputs.get("runCommand")
    if commands is None:
        raise _invalid(f"Missing \"runCommand\" in inputs of step {step.name}.")  # guessed
    if not ((isinstance(commands, list) and all(isinstance(c, str) for c in commands))
            or (isinstance(commands, str) and _is_reference(commands))):
        raise _invalid(f"Invalid \"runCommand\" in step {step.name}; it must be a list of strings or a "
                       "parameter reference.")  # guessed
    directory = step.inputs.get("workingDirectory")
    if directory is not None and not isinstance(directory, str):
        raise _invalid(f"Invalid \"workingDirectory\" in step {step.name}; it must be a string.")  # guessed
    timeout = step.inputs.get("timeoutSeconds")
    if timeout is not None and not (
            (isinstance(timeout, int) and not isinstance(timeout, bool))
            or (isinstance(timeout, str) and (timeout.strip().isdigit() or _is_reference(timeout)))):
        raise _invalid(f"Invalid \"timeoutSeconds\" in step {step.name}; it must be a number of seconds or a "
                       "parameter reference.")  # guessed


def _check_known_inputs(step: _Step, known: frozenset[str]) -> None:
    unknown = sorted(str(k) for k in set(step.inputs) - known)
    if unknown:
        raise _invalid(f"Unknown property \"{unknown[0]}\" in inputs of step {step.name}.")  # guessed


def references(value: Any) -> list[str]:
    if isinstance(value, str):
        return _REFERENCE.findall(value)
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [name for item in value for name in references(item)]
    return []


def _check_references(steps: Sequence[_Step], declared: Sequence[ParameterDeclaration]) -> None:
    names = {d.name for d in declared}
    for step in steps:
        for name in references([step.inputs, step.precondition]):
            if name not in names:
                # Quoted for AWS by a third-party list and a script comment ("Parameter \"else\" is not declared").
                raise _invalid(f"Parameter \"{name}\" is not declared.")


def _schema_version(body: Mapping[str, Any]) -> str:
    if "schemaVersion" not in body:
        raise _invalid("Missing \"schemaVersion\" in the document.")  # guessed, after "Missing \"mainSteps\"…"
    raw = body["schemaVersion"]
    schema = raw if isinstance(raw, str) else json.dumps(raw)  # YAML may read 2.2 as a number
    if schema not in COMMAND_SCHEMAS:
        # Quoted by third-party notes: "0.3 is not a valid schema version for Command document type".
        raise InvalidDocumentSchemaVersion(f"{schema} is not a valid schema version for Command document type")
    return schema


def parse(text: str, document_format: str = "JSON", document_type: str = "Command",
          platform_types: Sequence[str] | None = None) -> DocumentContent:
    """Read and check a Command document as CreateDocument and UpdateDocument do; raise InvalidDocumentContent
    or InvalidDocumentSchemaVersion (ValidationError for a format other than JSON or YAML).

    `document_type` is for callers' symmetry: only Command documents are checked, so other types are the
    caller's to refuse. `platform_types` overrides the platforms derived from the plugins."""
    del document_type
    body = load_body(text, document_format)
    if not isinstance(body, dict) or not all(isinstance(k, str) for k in body):
        raise _invalid("The content for the document is not valid.")  # moto's and the API reference's words
    schema = _schema_version(body)
    allowed = _TOP_LEVEL["1.2" if schema == "1.2" else "2.x"]
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise _invalid(f"Unknown property \"{unknown[0]}\".")  # a third-party list quotes it for runtimeConfig
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise _invalid("Invalid \"description\" in the document; it must be a string.")  # guessed
    declared = declarations(body.get("parameters"))
    steps = _steps_1_2(body) if schema == "1.2" else _steps_2_x(body)
    for step in steps:
        _check_inputs(step)
        if step.precondition is not None:
            _check_precondition(step, schema)
    _check_references(steps, declared)
    actions = tuple(dict.fromkeys(s.action for s in steps))
    derived = {p for a in actions for p in PLUGIN_PLATFORMS[a]}
    platforms = tuple(platform_types) if platform_types is not None else tuple(
        p for p in _PLATFORMS if p in derived)
    return DocumentContent(body, schema, description or "", declared, platforms, actions)


def render(content: DocumentContent, document_format: str) -> str:
    """The content as JSON or YAML, for GetDocument asked for the other format than the stored one. JSON is
    laid out as AWS lays out its own documents (4-space indent, no space after ':'), which reproduces the
    Hash DescribeDocument reports for AWS-RunShellScript and AWS-RunPowerShellScript."""
    if document_format == "JSON":
        return json.dumps(content.body, indent=4, separators=(",", ":"), ensure_ascii=False) + "\n"
    if document_format == "YAML":
        return yaml.safe_dump(dict(content.body), sort_keys=False, allow_unicode=True, default_flow_style=False)
    raise ValidationError(f"Invalid document format {document_format}")


def sha256(text: str) -> str:
    """DescribeDocument's `Hash` (HashType Sha256): the hex SHA-256 of the content exactly as submitted."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
