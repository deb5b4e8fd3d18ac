"""SendCommand's parameters checked and typed against a document's declarations, with AWS's error, and
`{{ssm:name}}` references found and replaced through the caller's lookup."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from openssm.services.document_content import parse
from openssm.services.document_parameters import (
    InvalidParameters,
    ParameterDeclaration,
    resolve,
    ssm_references,
    substitute_ssm,
)
from tests.unit.test_document_content import AWS_RUN_SHELL_SCRIPT

SHELL = parse(AWS_RUN_SHELL_SCRIPT).parameters


def declared(**specs: dict[str, Any]) -> tuple[ParameterDeclaration, ...]:
    body = {"schemaVersion": "2.2", "parameters": specs,
            "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["true"]}}]}
    return parse(json.dumps(body)).parameters


def refusal(declarations: Sequence[ParameterDeclaration], supplied: dict[str, list[str]],
            name: str = "MyDoc") -> InvalidParameters:
    with pytest.raises(InvalidParameters) as err:
        resolve(name, declarations, supplied)
    assert err.value.code == "InvalidParameters"
    assert err.value.message == f"document {name} does not support parameters."
    return err.value


def test_awss_run_shell_script_fills_in_its_defaults() -> None:
    assert resolve("AWS-RunShellScript", SHELL, {"commands": ["uptime", "df -h"]}) == {
        "commands": ["uptime", "df -h"], "workingDirectory": "", "executionTimeout": "3600"}


def test_supplied_values_replace_defaults() -> None:
    values = resolve("AWS-RunShellScript", SHELL, {"commands": ["id"], "workingDirectory": ["/tmp"],
                                                   "executionTimeout": ["172800"]})
    assert values == {"commands": ["id"], "workingDirectory": "/tmp", "executionTimeout": "172800"}


def test_each_type_comes_back_typed() -> None:
    declarations = declared(s={"type": "String"}, l={"type": "StringList"}, i={"type": "Integer"},
                            b={"type": "Boolean"}, m={"type": "StringMap"}, ml={"type": "MapList"})
    values = resolve("Typed", declarations, {"s": ["text"], "l": ["a", "b"], "i": ["-12"], "b": ["false"],
                                             "m": ['{"k": "v"}'], "ml": ['{"a": 1}', '{"b": 2}']})
    assert values == {"s": "text", "l": ["a", "b"], "i": -12, "b": False, "m": {"k": "v"},
                      "ml": [{"a": 1}, {"b": 2}]}


def test_a_map_list_may_come_as_one_json_array() -> None:
    assert resolve("Doc", declared(ml={"type": "MapList"}), {"ml": ['[{"a": 1}, {"b": 2}]']}) == {
        "ml": [{"a": 1}, {"b": 2}]}


def test_typed_defaults_come_back_in_their_type() -> None:
    declarations = declared(i={"type": "Integer", "default": "5"}, n={"type": "Integer", "default": 2},
                            b={"type": "Boolean", "default": True}, l={"type": "StringList", "default": ["x"]})
    assert resolve("Doc", declarations, {}) == {"i": 5, "n": 2, "b": True, "l": ["x"]}


def test_a_document_without_parameters_takes_none() -> None:
    assert resolve("Doc", (), {}) == {}


def test_names_the_document_does_not_declare_are_refused() -> None:
    err = refusal(SHELL, {"commands": ["id"], "Commands": ["x"], "timeout": ["1"]}, "AWS-RunShellScript")
    assert err.reason == "Parameters [Commands, timeout] are not defined in the document."


def test_a_parameter_without_a_default_is_required() -> None:
    assert refusal(SHELL, {}).reason == "Parameter \"commands\" is required but missing."


BAD_VALUES: list[tuple[str, dict[str, Any], list[str], str]] = [
    ("string given two values", {"type": "String"}, ["a", "b"],
     "Parameter \"p\" is a String and takes exactly one value, not 2."),
    ("string given none", {"type": "String"}, [], "Parameter \"p\" is a String and takes exactly one value, not 0."),
    ("integer a word", {"type": "Integer"}, ["many"], "Parameter \"p\" value many is not a Integer."),
    ("integer a fraction", {"type": "Integer"}, ["1.5"], "Parameter \"p\" value 1.5 is not a Integer."),
    ("boolean a maybe", {"type": "Boolean"}, ["perhaps"], "Parameter \"p\" value perhaps is not a Boolean."),
    ("boolean capitalised", {"type": "Boolean"}, ["True"], "Parameter \"p\" value True is not a Boolean."),
    ("string map not json", {"type": "StringMap"}, ["k=v"],
     "Parameter \"p\" value \"k=v\" is not JSON, as a StringMap must be."),
    ("string map a list", {"type": "StringMap"}, ["[1]"], "Parameter \"p\" value [1] is not a StringMap."),
    ("map list of numbers", {"type": "MapList"}, ["1", "2"], "Parameter \"p\" value [1, 2] is not a MapList."),
    ("outside allowed values", {"type": "String", "allowedValues": ["GitHub", "S3"]}, ["s3"],
     "Parameter \"p\" value \"s3\" is not one of allowedValues [GitHub, S3]."),
    ("integer outside allowed values", {"type": "Integer", "allowedValues": ["1", "2"]}, ["3"],
     "Parameter \"p\" value \"3\" is not one of allowedValues [1, 2]."),
    ("off the pattern", {"type": "String", "allowedPattern": "^[a-z]+$"}, ["Not Lower"],
     "Parameter \"p\" value \"Not Lower\" does not match allowedPattern ^[a-z]+$."),
    ("list item off the pattern", {"type": "StringList", "allowedPattern": "^[a-z]+$"}, ["ok", "NO"],
     "Parameter \"p\" value \"NO\" does not match allowedPattern ^[a-z]+$."),
    ("too short", {"type": "String", "minChars": 3}, ["ab"], "Parameter \"p\" value \"ab\" is shorter than minChars 3."),
    ("too long", {"type": "String", "maxChars": 3}, ["abcd"],
     "Parameter \"p\" value \"abcd\" is longer than maxChars 3."),
    ("too few items", {"type": "StringList", "minItems": 2}, ["a"],
     "Parameter \"p\" has 1 item(s), fewer than minItems 2."),
    ("too many items", {"type": "StringList", "maxItems": 1}, ["a", "b"],
     "Parameter \"p\" has 2 item(s), more than maxItems 1."),
]


@pytest.mark.parametrize(("spec", "given", "reason"), [(s, g, r) for _, s, g, r in BAD_VALUES],
                         ids=[c[0] for c in BAD_VALUES])
def test_values_that_break_their_declaration_are_refused(spec: dict[str, Any], given: list[str],
                                                         reason: str) -> None:
    assert refusal(declared(p=spec), {"p": given}).reason == reason


def test_allowed_patterns_must_match_the_whole_value_as_javas_do() -> None:
    assert refusal(SHELL, {"commands": ["id"], "executionTimeout": ["172801"]}).reason == (
        "Parameter \"executionTimeout\" value \"172801\" does not match allowedPattern "
        "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800).")
    refusal(SHELL, {"commands": ["id"], "executionTimeout": ["0"]})


def test_java_pattern_classes_are_read_as_java_reads_them() -> None:
    assert resolve("Doc", declared(p={"type": "String", "allowedPattern": "\\p{Alnum}+"}), {"p": ["ab12"]}) == {
        "p": "ab12"}
    refusal(declared(p={"type": "String", "allowedPattern": "\\p{Alnum}+"}), {"p": ["é"]})


def test_a_bad_default_is_refused_when_it_would_be_used() -> None:
    bad_default = (ParameterDeclaration("p", "Integer", has_default=True, default="x"),)
    assert refusal(bad_default, {}).reason == "Parameter \"p\" value x is not a Integer."


def test_ssm_references_are_found_in_order_once_each_with_spaces_versions_and_nesting() -> None:
    values = {"a": "{{ssm:/app/db}} and {{ ssm:plain }}", "b": ["{{ssm:/app/db}}", "{{ssm:versioned:3}}"],
              "c": {"k": ["{{ssm:nested.name}}"]}, "d": 7}
    assert ssm_references(values) == ["/app/db", "plain", "versioned:3", "nested.name"]


def test_text_without_references_has_none() -> None:
    assert ssm_references({"a": "{{ commands }} {{ssm-secure:/pw}} {{ssm:}} {ssm:/x}"}) == []
    assert ssm_references("plain") == [] and ssm_references(None) == []


def test_substitution_replaces_each_reference_looking_each_name_up_once() -> None:
    asked: list[str] = []

    def lookup(name: str) -> str:
        asked.append(name)
        return {"/app/db": "db.internal", "user": "{{ssm:/app/db}}"}[name]

    values = {"url": "postgres://{{ ssm:user }}@{{ssm:/app/db}}", "hosts": ["{{ssm:/app/db}}", "x"],
              "map": {"k": "{{ssm:/app/db}}"}, "n": 3}
    assert substitute_ssm(values, lookup) == {"url": "postgres://{{ssm:/app/db}}@db.internal",
                                              "hosts": ["db.internal", "x"], "map": {"k": "db.internal"}, "n": 3}
    assert asked == ["user", "/app/db"]


def test_substitution_without_references_asks_nothing() -> None:
    def lookup(name: str) -> str:
        raise AssertionError(name)

    assert substitute_ssm({"commands": ["echo {{ x }}"]}, lookup) == {"commands": ["echo {{ x }}"]}


def test_a_refused_lookup_stops_substitution() -> None:
    def lookup(name: str) -> str:
        raise InvalidParameters(f"no {name}")

    with pytest.raises(InvalidParameters, match="no /missing"):
        substitute_ssm({"a": "{{ssm:/missing}}"}, lookup)
