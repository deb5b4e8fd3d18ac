"""The wire codecs against botocore's own client side: what a client sends we read, what we send it reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from botocore import parsers, serialize

from openssm.errors import SerializationError, ValidationError
from openssm.protocol import aws_json, aws_query
from openssm.protocol.service_models import operation_model, service_for_target_prefix

GOLDEN = Path(__file__).parents[2] / "golden" / "validation"
NOW = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)


def client_json_body(service: str, op: str, params: dict[str, Any]) -> bytes:
    request = serialize.create_serializer("json").serialize_to_request(params, operation_model(service, op))
    return request["body"] if isinstance(request["body"], bytes) else request["body"].encode()


def client_query_form(service: str, op: str, params: dict[str, Any]) -> dict[str, str]:
    request = serialize.create_serializer("query").serialize_to_request(params, operation_model(service, op))
    body = request["body"]
    return dict(parse_qsl(body, keep_blank_values=True)) if isinstance(body, str) else {k: str(v) for k, v in body.items()}


@pytest.mark.parametrize(("service", "op", "params"), [
    ("ssm", "PutParameter", {"Name": "/a/b", "Value": "v", "Type": "SecureString", "Overwrite": False,
                             "Tags": [{"Key": "k", "Value": "v"}]}),
    ("ssm", "DescribeParameters", {"ParameterFilters": [{"Key": "Name", "Option": "BeginsWith", "Values": ["/a"]}],
                                   "MaxResults": 5}),
    ("kms", "Encrypt", {"KeyId": "alias/x", "Plaintext": b"\x00\x01secret", "EncryptionContext": {"a": "b"}}),
    ("cloudtrail", "LookupEvents", {"StartTime": NOW, "MaxResults": 3}),
])
def test_json_requests_from_botocore_parse_back_to_the_same_params(service: str, op: str,
                                                                   params: dict[str, Any]) -> None:
    assert aws_json.parse_request(operation_model(service, op), client_json_body(service, op, params)) == params


@pytest.mark.parametrize(("service", "op", "params"), [
    ("iam", "CreateUser", {"UserName": "bob", "Path": "/eng/", "Tags": [{"Key": "team", "Value": "blue"}]}),
    ("iam", "SimulateCustomPolicy", {"PolicyInputList": ["{}"], "ActionNames": ["ssm:GetParameter"],
                                     "ContextEntries": [{"ContextKeyName": "aws:SourceIp",
                                                         "ContextKeyValues": ["10.0.0.1"],
                                                         "ContextKeyType": "ip"}]}),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "sess",
                           "DurationSeconds": 900, "Tags": [{"Key": "k", "Value": "v"}],
                           "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]}),
])
def test_query_requests_from_botocore_parse_back_to_the_same_params(service: str, op: str,
                                                                    params: dict[str, Any]) -> None:
    assert aws_query.parse_request(operation_model(service, op), client_query_form(service, op, params)) == params


def test_json_responses_are_read_back_by_botocore() -> None:
    op = operation_model("ssm", "GetParameter")
    result = {"Parameter": {"Name": "/a", "Type": "String", "Value": "v", "Version": 3, "LastModifiedDate": NOW,
                            "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/a", "DataType": "text"}}
    body = aws_json.serialize_response(op, result)
    parsed = parsers.create_parser("json").parse({"body": body, "headers": {}, "status_code": 200}, op.output_shape)
    assert parsed["Parameter"]["Version"] == 3
    assert parsed["Parameter"]["LastModifiedDate"].timestamp() == NOW.timestamp()


def test_json_blobs_round_trip_as_base64() -> None:
    op = operation_model("kms", "Decrypt")
    body = aws_json.serialize_response(op, {"Plaintext": b"\x00\xffraw", "KeyId": "k"})
    parsed = parsers.create_parser("json").parse({"body": body, "headers": {}, "status_code": 200}, op.output_shape)
    assert parsed["Plaintext"] == b"\x00\xffraw"


def test_query_responses_and_errors_are_read_back_by_botocore() -> None:
    op = operation_model("iam", "ListUsers")
    result = {"Users": [{"Path": "/", "UserName": "a&b", "UserId": "AIDA0", "Arn": "arn:aws:iam::1:user/a&b",
                         "CreateDate": NOW}], "IsTruncated": False}
    body = aws_query.serialize_response(op, result, "req-1")
    parsed = parsers.create_parser("query").parse({"body": body, "headers": {}, "status_code": 200}, op.output_shape)
    assert parsed["Users"][0]["UserName"] == "a&b" and parsed["IsTruncated"] is False
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"
    error = aws_query.serialize_error("NoSuchEntity", "The user with name <x> cannot be found.", "req-2")
    parsed = parsers.create_parser("query").parse({"body": error, "headers": {}, "status_code": 404}, op.output_shape)
    assert parsed["Error"]["Code"] == "NoSuchEntity"
    assert parsed["Error"]["Message"] == "The user with name <x> cannot be found."


def test_json_errors_carry_type_and_message_botocore_reads() -> None:
    status, headers, body = aws_json.serialize_error("ParameterNotFound", "Parameter /x not found.")
    op = operation_model("ssm", "GetParameter")
    parsed = parsers.create_parser("json").parse({"body": body, "headers": headers, "status_code": status},
                                                 op.output_shape)
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == ("ParameterNotFound", "Parameter /x not found.")


@pytest.mark.parametrize("case", json.loads((GOLDEN / "ssm.json").read_text()),
                         ids=lambda c: f"{c['operation']}-{c['message'][:40]}")
def test_validation_messages_match_aws_wording(case: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as err:
        aws_json.parse_request(operation_model("ssm", case["operation"]), json.dumps(case["params"]).encode())
    assert err.value.message == case["message"]


@pytest.mark.parametrize("body", [b"{nope", b"[1, 2]", b'{"Name": 5}', b'{"WithDecryption": "yes", "Name": "a"}'])
def test_malformed_or_mistyped_json_is_a_serialization_error(body: bytes) -> None:
    with pytest.raises(SerializationError):
        aws_json.parse_request(operation_model("ssm", "GetParameter"), body)


def test_target_prefixes_name_their_services() -> None:
    assert service_for_target_prefix("AmazonSSM") == "ssm"
    assert service_for_target_prefix("TrentService") == "kms"
    assert service_for_target_prefix("AWSOrganizationsV20161128") == "organizations"
    assert service_for_target_prefix("Nope") is None
