"""A document's parameters: how each is declared, SendCommand's values (a map of name to a list of strings)
checked and typed against the declarations as SSM checks them, and `{{ssm:name}}` references in values found
and replaced by what the caller's lookup answers. Pure: no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openssm.errors import AwsError
from openssm.protocol.java_regex import JavaRegexError, full_match

__all__ = ["PARAMETER_TYPES", "ConstraintFailed", "InvalidParameters", "ParameterDeclaration", "WrongType",
           "check_typed", "resolve", "ssm_references", "substitute_ssm"]

PARAMETER_TYPES = ("String", "StringList", "Integer", "Boolean", "MapList", "StringMap")
# The agent's pattern (amazon-ssm-agent agent/framework/docparser/parameterstore/parameterstore.go):
# `{{ ssm:name }}`, spaces allowed inside the braces, a version or label after a second colon.
_SSM_REFERENCE = re.compile(r"\{\{\s*ssm:([/A-Za-z0-9_.:-]+)\s*\}\}")
_INTEGER = re.compile(r"^-?[0-9]+$")


class InvalidParameters(AwsError):
    """SendCommand's parameters don't fit the document.

    AWS answers every such case with one sentence naming only the document (see `_refused`); `reason` keeps
    which rule failed, for logs and tests, without changing what the caller sees."""

    code = "InvalidParameters"

    def __init__(self, message: str = "", *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


@dataclass(frozen=True)
class ParameterDeclaration:
    """One entry of a document's `parameters`; optional attributes are None when the document omits them."""

    name: str
    type: str
    description: str = ""
    has_default: bool = False
    default: Any = None  # as the document writes it (Integer defaults may be numbers or digit strings)
    allowed_values: tuple[str, ...] | None = None
    allowed_pattern: str | None = None
    min_chars: int | None = None
    max_chars: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    display_type: str | None = None


class ConstraintFailed(ValueError):
    """A value breaks its declaration; the text says which rule (callers word their own error)."""


class WrongType(ConstraintFailed):
    """A value that is not of its parameter's type at all."""


def _refused(document_name: str, reason: str) -> InvalidParameters:
    # AWS's wording for bad SendCommand parameters, whatever the rule: a value outside allowedValues
    # (https://github.com/boto/boto3/issues/3151, "document AWS-RunRemoteScript does not support parameters."),
    # a bad value for AmazonCloudWatch-ManageAgent, and AWS-ConfigureAWSPackage
    # (https://github.com/aws/aws-tools-for-powershell/issues/275).
    return InvalidParameters(f"document {document_name} does not support parameters.", reason=reason)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _check_text(d: ParameterDeclaration, text: str) -> None:
    if d.allowed_values is not None and text not in d.allowed_values:
        raise ConstraintFailed(f"Parameter \"{d.name}\" value \"{text}\" is not one of allowedValues "
                               f"[{', '.join(d.allowed_values)}].")
    if d.allowed_pattern is not None:
        try:
            matches = full_match(d.allowed_pattern, text)
        except JavaRegexError as err:
            raise ConstraintFailed(f"Parameter \"{d.name}\" has an allowedPattern that can't be used: {err}") from err
        # Java's Pattern.matches (the whole value), as SSM's service is Java; AWS's agent searches instead
        # (regexp.MatchString), which only matters for unanchored patterns such as AWS-RunShellScript's.
        if not matches:
            raise ConstraintFailed(f"Parameter \"{d.name}\" value \"{text}\" does not match allowedPattern "
                                   f"{d.allowed_pattern}.")
    if d.min_chars is not None and len(text) < d.min_chars:
        raise ConstraintFailed(f"Parameter \"{d.name}\" value \"{text}\" is shorter than minChars {d.min_chars}.")
    if d.max_chars is not None and len(text) > d.max_chars:
        raise ConstraintFailed(f"Parameter \"{d.name}\" value \"{text}\" is longer than maxChars {d.max_chars}.")


def _check_items(d: ParameterDeclaration, items: Sequence[Any]) -> None:
    if d.min_items is not None and len(items) < d.min_items:
        raise ConstraintFailed(f"Parameter \"{d.name}\" has {len(items)} item(s), fewer than minItems "
                               f"{d.min_items}.")
    if d.max_items is not None and len(items) > d.max_items:
        raise ConstraintFailed(f"Parameter \"{d.name}\" has {len(items)} item(s), more than maxItems "
                               f"{d.max_items}.")


def _wrong_type(d: ParameterDeclaration, value: Any) -> WrongType:
    return WrongType(f"Parameter \"{d.name}\" value {_shown(value)} is not a {d.type}.")


def check_typed(d: ParameterDeclaration, value: Any) -> Any:
    """Check a typed value (a document's default, or a value `resolve` typed) against its declaration and
    answer it in its canonical form (an Integer default written "5" becomes 5); raise ConstraintFailed."""
    if d.type == "String":
        if not isinstance(value, str):
            raise _wrong_type(d, value)
        _check_text(d, value)
        return value
    if d.type == "StringList":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _wrong_type(d, value)
        _check_items(d, value)
        for item in value:
            _check_text(d, item)
        return list(value)
    if d.type == "Integer":
        if isinstance(value, str) and _INTEGER.match(value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _wrong_type(d, value)
        _check_text(d, str(value))
        return value
    if d.type == "Boolean":
        if not isinstance(value, bool):
            raise _wrong_type(d, value)
        _check_text(d, "true" if value else "false")
        return value
    if d.type == "StringMap":
        if not isinstance(value, dict):
            raise _wrong_type(d, value)
        return dict(value)
    if d.type == "MapList":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _wrong_type(d, value)
        _check_items(d, value)
        return list(value)
    raise ConstraintFailed(f"Parameter \"{d.name}\" has an unknown type {d.type}.")


def _json(d: ParameterDeclaration, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as err:
        raise WrongType(f"Parameter \"{d.name}\" value \"{text}\" is not JSON, as a {d.type} must be.") from err


def _typed(d: ParameterDeclaration, given: Sequence[str]) -> Any:
    """SendCommand's list of strings as the declared type: StringMap and MapList come as JSON text."""
    if d.type == "StringList":
        return list(given)
    if d.type == "MapList":
        items = [_json(d, v) for v in given]
        # The console sends the whole list as one JSON array; the CLI one JSON object per item.
        return items[0] if len(items) == 1 and isinstance(items[0], list) else items
    if len(given) != 1:
        raise ConstraintFailed(f"Parameter \"{d.name}\" is a {d.type} and takes exactly one value, not "
                               f"{len(given)}.")
    text = given[0]
    if d.type == "Integer":
        if not _INTEGER.match(text):
            raise _wrong_type(d, text)
        return int(text)
    if d.type == "Boolean":
        if text not in ("true", "false"):
            raise _wrong_type(d, text)
        return text == "true"
    if d.type == "StringMap":
        return _json(d, text)
    return text


def resolve(document_name: str, declared: Sequence[ParameterDeclaration],
            supplied: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Every declared parameter's value for SendCommand: the caller's, checked and typed (StringList -> list,
    Integer -> int, Boolean -> bool, StringMap -> dict, MapList -> list of dicts, String -> str), or the
    default. Raises InvalidParameters in AWS's words for undeclared names, missing required values and values
    that break their declaration."""
    by_name = {d.name: d for d in declared}
    unknown = [name for name in supplied if name not in by_name]
    if unknown:
        raise _refused(document_name, f"Parameters [{', '.join(unknown)}] are not defined in the document.")
    values: dict[str, Any] = {}
    for d in declared:
        try:
            if d.name in supplied:
                values[d.name] = check_typed(d, _typed(d, supplied[d.name]))
            elif d.has_default:
                values[d.name] = check_typed(d, d.default)
            else:
                raise ConstraintFailed(f"Parameter \"{d.name}\" is required but missing.")
        except ConstraintFailed as err:
            raise _refused(document_name, str(err)) from err
    return values


def ssm_references(value: Any) -> list[str]:
    """The Parameter Store names that `{{ssm:name}}` references in a value name (strings, lists and mapping
    values, nested), in order of appearance, each once."""
    if isinstance(value, str):
        return list(dict.fromkeys(_SSM_REFERENCE.findall(value)))
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return list(dict.fromkeys(name for item in value for name in ssm_references(item)))
    return []


def _replace(value: Any, found: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _SSM_REFERENCE.sub(lambda m: found[m.group(1)], value)
    if isinstance(value, (list, tuple)):
        return [_replace(v, found) for v in value]
    if isinstance(value, Mapping):
        return {k: _replace(v, found) for k, v in value.items()}
    return value


def substitute_ssm(values: Mapping[str, Any], lookup: Callable[[str], str]) -> dict[str, Any]:
    """The values with each `{{ssm:name}}` replaced by `lookup(name)`; each name is looked up once, in order,
    so a lookup that refuses (unknown name, no permission) stops at the first such reference. One pass: a
    looked-up value holding `{{ssm:…}}` is not expanded again."""
    found = {name: lookup(name) for name in ssm_references(values)}
    return {k: _replace(v, found) for k, v in values.items()}
