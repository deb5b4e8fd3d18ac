"""Validation straight from the models, in AWS's words (more cases in tests/golden/aws_json and aws_query)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from openssm.errors import ValidationError
from openssm.protocol.service_models import operation_model
from openssm.protocol.validation import MAX_REPORTED, errors_of, java_text, validate
from tests.unit.protocol.goldens import GOLDEN


def input_shape(service: str, op: str) -> Any:
    return operation_model(service, op).input_shape


@pytest.mark.parametrize("case", json.loads((GOLDEN / "validation" / "ssm.json").read_text()),
                         ids=lambda c: f"{c['operation']}-{c['message'][:40]}")
def test_validation_messages_match_aws_wording(case: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        validate(input_shape("ssm", case["operation"]), case["params"])
    assert err.value.message == case["message"]


def test_valid_params_pass() -> None:
    validate(input_shape("ssm", "PutParameter"), {"Name": "/a/b", "Value": "v", "Type": "SecureString",
                                                  "Tags": [{"Key": "team", "Value": "blue"}]})


def test_recursive_shapes_are_checked_at_every_depth() -> None:
    params = {"Aggregators": [{"Aggregators": [{"Expression": ""}]}]}
    assert errors_of(input_shape("ssm", "GetInventory"), params) == [
        "Value '' at 'aggregators.1.member.aggregators.1.member.expression' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"]


def test_structured_map_values_are_checked_at_their_key() -> None:
    params = {"ResourceId": "r", "Metadata": {"team": {"Value": ""}}}
    assert errors_of(input_shape("ssm", "CreateOpsMetadata"), params) == [
        "Value '' at 'metadata.team.member.value' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"]


def test_a_null_item_in_a_list_of_structures_is_named() -> None:
    params = {"Path": "/a", "ParameterFilters": [None]}
    assert errors_of(input_shape("ssm", "GetParametersByPath"), params) == [
        "Value null at 'parameterFilters.1.member' failed to satisfy constraint: Member must not be null"]


def test_values_inside_a_sensitive_map_are_not_echoed() -> None:
    params = {"DocumentName": "AWS-RunShellScript", "Parameters": {"commands": ["secret", None]}}
    assert errors_of(input_shape("ssm", "SendCommand"), params) == [
        "Value at 'parameters.commands.member' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must not be null]"]


def test_at_most_ten_errors_are_reported_and_counted() -> None:
    params = {"Path": "/a", "ParameterFilters": [{"Key": ""} for _ in range(20)]}
    assert len(errors_of(input_shape("ssm", "GetParametersByPath"), params)) == MAX_REPORTED
    with pytest.raises(ValidationError) as err:
        validate(input_shape("ssm", "GetParametersByPath"), params)
    assert err.value.message.startswith("10 validation errors detected: ")


def test_an_operation_without_input_has_nothing_to_validate() -> None:
    validate(None, {"Anything": 1})


@pytest.mark.parametrize(("value", "text"), [
    (None, "null"), (True, "true"), (11, "11"), ("a b", "a b"), ([], "[]"), (["a", "b"], "[a, b]"),
    ({"k": ["x"]}, "{k=[x]}"), (b"\x00\x01\x02", "java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]"),
    (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "2026-01-01T00:00:00+00:00"),
])
def test_values_are_printed_as_aws_java_servers_print_them(value: Any, text: str) -> None:
    assert java_text(value) == text
