"""The query protocol (IAM, STS) against botocore's own client side and the goldens in tests/golden/aws_query."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.model import ServiceModel

from openssm.errors import AwsError
from openssm.protocol import aws_query
from openssm.protocol.plan import UnknownMemberError
from openssm.protocol.service_models import operation_model
from tests.unit.protocol.goldens import case_id, cases, client_query_form, client_reads, revive

NOW = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)
TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},' \
        '"Action":"sts:AssumeRole"}]}'


@pytest.mark.parametrize(("service", "op", "params"), [
    ("iam", "CreateUser", {"UserName": "bob", "Path": "/eng/", "PermissionsBoundary": "arn:aws:iam::aws:policy/X",
                           "Tags": [{"Key": "team", "Value": "blue"}, {"Key": "cost center", "Value": "a+b=c"}]}),
    ("iam", "CreateRole", {"RoleName": "ssm-node", "AssumeRolePolicyDocument": TRUST, "Description": "nodes & co",
                           "MaxSessionDuration": 3600, "Tags": [{"Key": "k", "Value": "v"}]}),
    ("iam", "PutRolePolicy", {"RoleName": "ssm-node", "PolicyName": "inline",
                              "PolicyDocument": '{"Statement": [{"Effect": "Allow", "Action": "ssm:*",\r\n'
                                                '"Resource": "*"}]}'}),
    ("iam", "SimulateCustomPolicy", {"PolicyInputList": ["{}", '{"Version":"2012-10-17"}'],
                                     "ActionNames": ["ssm:GetParameter", "ssm:PutParameter"],
                                     "ResourceArns": ["arn:aws:ssm:us-east-1:123456789012:parameter/a"],
                                     "ContextEntries": [{"ContextKeyName": "aws:SourceIp",
                                                         "ContextKeyValues": ["10.0.0.1", "10.0.0.2"],
                                                         "ContextKeyType": "ip"},
                                                        {"ContextKeyName": "aws:MultiFactorAuthPresent",
                                                         "ContextKeyValues": ["true"],
                                                         "ContextKeyType": "boolean"}],
                                     "MaxItems": 100}),
    ("iam", "PutAccountProperties", {"Properties": {"color": "blue", "size": "L"}}),
    ("iam", "ListPolicies", {"Scope": "Local", "OnlyAttached": False, "MaxItems": 10}),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "sess",
                           "DurationSeconds": 900, "Tags": [{"Key": "k", "Value": "v"}],
                           "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
                           "TransitiveTagKeys": ["k"], "Policy": '{"Version":"2012-10-17"}'}),
])
def test_requests_botocore_sends_parse_back_to_the_same_params(service: str, op: str, params: dict[str, Any]) -> None:
    model = operation_model(service, op)
    assert aws_query.parse_request(model, client_query_form(model, params)) == params


@pytest.mark.parametrize("case", cases("aws_query", "requests.json"), ids=case_id)
def test_request_forms_parse_or_fail_as_aws_does(case: dict[str, Any]) -> None:
    model = operation_model(case["service"], case["operation"])
    if "error" in case:
        with pytest.raises(AwsError) as err:
            aws_query.parse_request(model, case["form"])
        assert (err.value.code, err.value.message) == (case["error"]["code"], case["error"]["message"])
    else:
        assert aws_query.parse_request(model, case["form"]) == revive(case["params"])


@pytest.mark.parametrize("case", cases("aws_query", "responses.json"), ids=case_id)
def test_responses_serialize_to_the_golden_xml_and_botocore_reads_them_back(case: dict[str, Any]) -> None:
    model = operation_model(case["service"], case["operation"])
    body = aws_query.serialize_response(model, revive(case["result"]), case["request_id"])
    assert body.decode() == case["xml"]
    parsed = client_reads("query", model, body)
    assert parsed.pop("ResponseMetadata")["RequestId"] == case["request_id"]
    assert parsed == revive(case.get("botocore", case["result"]))


@pytest.mark.parametrize("case", cases("aws_query", "errors.json"), ids=case_id)
def test_errors_serialize_to_the_golden_xml_and_botocore_reads_code_and_message(case: dict[str, Any]) -> None:
    body = aws_query.serialize_error(case["code"], case["message"], case["request_id"], sender=case["sender"])
    assert body.decode() == case["xml"]
    parsed = client_reads("query", operation_model("iam", "GetUser"), body, status=400)
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == (case["code"], case["message"])
    assert parsed["Error"]["Type"] == ("Sender" if case["sender"] else "Receiver")
    assert parsed["ResponseMetadata"]["RequestId"] == case["request_id"]


def test_errors_can_name_another_services_namespace() -> None:
    body = aws_query.serialize_error("ExpiredToken", "gone", "r", namespace="https://sts.amazonaws.com/doc/2011-06-15/")
    assert body.startswith(b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')


@pytest.mark.parametrize(("service", "op", "result"), [
    ("iam", "ListUsers", {"Users": [{"Path": "/", "UserName": "a&b", "UserId": "AIDA0", "CreateDate": NOW,
                                     "Arn": "arn:aws:iam::1:user/a&b"}], "IsTruncated": True, "Marker": "m"}),
    ("iam", "SimulateCustomPolicy", {"EvaluationResults": [{"EvalActionName": "ssm:GetParameter",
                                                            "EvalDecision": "allowed",
                                                            "EvalDecisionDetails": {"IAM Policy": "allowed"},
                                                            "MatchedStatements": [], "MissingContextValues": []}],
                                     "IsTruncated": False}),
    ("sts", "GetCallerIdentity", {"UserId": "AIDA0", "Account": "123456789012",
                                  "Arn": "arn:aws:iam::123456789012:user/bob"}),
])
def test_responses_round_trip_through_botocore(service: str, op: str, result: dict[str, Any]) -> None:
    model = operation_model(service, op)
    parsed = client_reads("query", model, aws_query.serialize_response(model, result, "rid", strict=True))
    parsed.pop("ResponseMetadata")
    assert parsed == result


def test_strict_serialization_refuses_members_the_shape_lacks() -> None:
    model = operation_model("sts", "GetCallerIdentity")
    with pytest.raises(UnknownMemberError):
        aws_query.serialize_response(model, {"Account": "1", "Secret": "x"}, "r", strict=True)
    assert b"Secret" not in aws_query.serialize_response(model, {"Account": "1", "Secret": "x"}, "r")


def test_characters_xml_cannot_carry_become_replacement_characters() -> None:
    model = operation_model("sts", "GetCallerIdentity")
    parsed = client_reads("query", model, aws_query.serialize_response(model, {"UserId": "a\x00b\x1fc"}, "r"))
    assert parsed["UserId"] == "a\ufffdb\ufffdc"


# A made-up query service using what IAM and STS do not: locationName on members and items, flattened lists
# and maps. botocore's serializer and parser follow the protocol's rules for them; so must we.
SYNTHETIC = ServiceModel({
    "metadata": {"protocol": "query", "apiVersion": "2020-01-01", "endpointPrefix": "synthetic",
                 "signatureVersion": "v4", "serviceId": "Synthetic", "uid": "synthetic-2020-01-01"},
    "operations": {"Echo": {"name": "Echo", "http": {"method": "POST", "requestUri": "/"},
                            "input": {"shape": "Shapes"},
                            "output": {"shape": "Shapes", "resultWrapper": "EchoResult"}}},
    "shapes": {
        "Shapes": {"type": "structure", "members": {
            "Renamed": {"shape": "Text", "locationName": "Other"},
            "Flat": {"shape": "FlatList"},
            "FlatNamed": {"shape": "FlatNamedList"},
            "Named": {"shape": "NamedList"},
            "FlatMap": {"shape": "FlatMap"},
            "NamedMap": {"shape": "NamedMap"},
            "When": {"shape": "When"},
            "Data": {"shape": "Data"},
            "Ratio": {"shape": "Ratio"},
        }},
        "Text": {"type": "string"},
        "When": {"type": "timestamp"},
        "Data": {"type": "blob"},
        "Ratio": {"type": "double"},
        "FlatList": {"type": "list", "member": {"shape": "Text"}, "flattened": True},
        "FlatNamedList": {"type": "list", "member": {"shape": "Item", "locationName": "Thing"}, "flattened": True},
        "NamedList": {"type": "list", "member": {"shape": "Text", "locationName": "item"}},
        "Item": {"type": "structure", "members": {"Id": {"shape": "Text", "locationName": "ident"}}},
        "FlatMap": {"type": "map", "key": {"shape": "Text"}, "value": {"shape": "Text"}, "flattened": True},
        "NamedMap": {"type": "map", "key": {"shape": "Text", "locationName": "k"},
                     "value": {"shape": "Item", "locationName": "v"}},
    },
}, service_name="synthetic")

SYNTHETIC_PARAMS = {
    "Renamed": "r", "Flat": ["a", "b"], "FlatNamed": [{"Id": "1"}, {"Id": "2"}], "Named": ["x", "y"],
    "FlatMap": {"k1": "v1", "k2": "v2"}, "NamedMap": {"a": {"Id": "9"}}, "When": NOW,
    "Data": b"\x00bytes", "Ratio": 0.25,
}


def test_location_names_and_flattened_shapes_are_read_as_botocore_writes_them() -> None:
    model = SYNTHETIC.operation_model("Echo")
    form = client_query_form(model, SYNTHETIC_PARAMS)
    assert {"Other", "Flat.1", "Thing.2.ident", "Named.item.2", "FlatMap.1.key", "NamedMap.entry.1.k"} <= set(form)
    assert aws_query.parse_request(model, form) == SYNTHETIC_PARAMS


def test_location_names_and_flattened_shapes_are_written_as_botocore_reads_them() -> None:
    model = SYNTHETIC.operation_model("Echo")
    body = aws_query.serialize_response(model, SYNTHETIC_PARAMS, "rid", strict=True)
    assert b'<EchoResponse xmlns="https://synthetic.amazonaws.com/doc/2020-01-01/"><EchoResult><Other>r</Other>' \
           b"<Flat>a</Flat><Flat>b</Flat><Thing><ident>1</ident></Thing>" in body
    parsed = client_reads("query", model, body)
    parsed.pop("ResponseMetadata")
    assert parsed == SYNTHETIC_PARAMS


@pytest.mark.parametrize(("key", "value", "message"), [
    ("When", "soon", "Value 'soon' for parameter When is not a timestamp"),
    ("Data", "abc", "Value 'abc' for parameter Data is not base64 data"),
    ("Ratio", "1_0", "Value '1_0' for parameter Ratio is not a double"),
])
def test_scalars_that_do_not_parse_are_malformed_input(key: str, value: str, message: str) -> None:
    with pytest.raises(AwsError) as err:
        aws_query.parse_request(SYNTHETIC.operation_model("Echo"), {key: value})
    assert (err.value.code, err.value.message) == ("MalformedInput", message)


def test_timestamps_are_read_as_iso_8601_or_epoch_seconds() -> None:
    model = SYNTHETIC.operation_model("Echo")
    for text in ("2026-11-22T12:00:00Z", "2026-11-22T12:00:00.000Z", "2026-11-22T13:00:00+01:00", "1795348800"):
        assert aws_query.parse_request(model, {"When": text}) == {"When": NOW}
