"""JSON 1.1 against botocore's own client side and the golden cases in tests/golden/aws_json."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from openssm.errors import AwsError, SerializationError
from openssm.protocol import aws_json
from openssm.protocol.plan import UnknownMemberError
from openssm.protocol.service_models import operation_model
from tests.unit.protocol.goldens import case_id, cases, client_json_body, client_reads, revive

NOW = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("service", "op", "params"), [
    ("ssm", "PutParameter", {"Name": "/app/db/password", "Value": "s3cret", "Type": "SecureString", "Overwrite": False,
                             "Tags": [{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "prod"}],
                             "Tier": "Advanced"}),
    ("ssm", "GetParametersByPath", {"Path": "/app", "Recursive": True, "WithDecryption": True, "MaxResults": 10,
                                    "ParameterFilters": [{"Key": "Type", "Option": "Equals",
                                                          "Values": ["SecureString", "String"]},
                                                         {"Key": "tag:team", "Values": ["blue"]}]}),
    ("ssm", "DescribeParameters", {"ParameterFilters": [{"Key": "Name", "Option": "BeginsWith", "Values": ["/a"]}],
                                   "MaxResults": 5, "NextToken": "abc"}),
    ("organizations", "CreateAccount", {"Email": "ops@example.com", "AccountName": "Prod", "RoleName": "Admin",
                                        "IamUserAccessToBilling": "DENY", "Tags": [{"Key": "k", "Value": "v"}]}),
    ("kms", "Encrypt", {"KeyId": "alias/x", "Plaintext": b"\x00\x01secret\xff", "EncryptionContext": {"a": "b"},
                        "GrantTokens": ["t1"], "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("cloudtrail", "LookupEvents", {"StartTime": NOW, "EndTime": NOW, "MaxResults": 3,
                                    "LookupAttributes": [{"AttributeKey": "EventName",
                                                          "AttributeValue": "PutParameter"}]}),
])
def test_requests_botocore_sends_parse_back_to_the_same_params(service: str, op: str, params: dict[str, Any]) -> None:
    model = operation_model(service, op)
    assert aws_json.parse_request(model, client_json_body(model, params)) == params


@pytest.mark.parametrize("case", cases("aws_json", "requests.json"), ids=case_id)
def test_request_bodies_parse_or_fail_as_aws_does(case: dict[str, Any]) -> None:
    model = operation_model(case["service"], case["operation"])
    body = case["body"].encode() if "body" in case else json.dumps(case["json"]).encode()
    if "error" in case:
        with pytest.raises(AwsError) as err:
            aws_json.parse_request(model, body)
        assert (err.value.code, err.value.message) == (case["error"]["code"], case["error"]["message"])
    else:
        assert aws_json.parse_request(model, body) == revive(case["params"])


def test_more_than_ten_violations_are_capped_at_ten() -> None:
    model = operation_model("ssm", "GetParametersByPath")
    body = json.dumps({"Path": "/a", "ParameterFilters": [{"Key": ""}] * 6}).encode()
    with pytest.raises(AwsError) as err:
        aws_json.parse_request(model, body)
    assert err.value.message.startswith("10 validation errors detected: Value '' at 'parameterFilters.1.member.key'")
    assert err.value.message.count("; ") == 9
    assert "parameterFilters.5.member.key" in err.value.message
    assert "parameterFilters.6.member.key" not in err.value.message


def test_an_operation_without_input_reads_any_object_as_no_params() -> None:
    model = operation_model("organizations", "DescribeOrganization")
    assert aws_json.parse_request(model, b'{"Anything": 1}') == {}


@pytest.mark.parametrize("case", cases("aws_json", "responses.json"), ids=case_id)
def test_responses_serialize_to_the_golden_bytes_and_botocore_reads_them_back(case: dict[str, Any]) -> None:
    model = operation_model(case["service"], case["operation"])
    body = aws_json.serialize_response(model, revive(case["result"]))
    assert body.decode() == case["body"]
    parsed = client_reads("json", model, body)
    parsed.pop("ResponseMetadata", None)
    assert parsed == revive(case.get("botocore", case["result"]))


@pytest.mark.parametrize(("service", "op", "result"), [
    ("ssm", "GetParameter", {"Parameter": {"Name": "/a", "Type": "SecureString", "Value": "é & <ok>", "Version": 3,
                                           "LastModifiedDate": NOW, "DataType": "text",
                                           "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/a"}}),
    ("ssm", "DescribeParameters", {"Parameters": [{"Name": "/a", "Type": "String", "LastModifiedDate": NOW,
                                                   "Version": 1, "Tier": "Standard", "Policies": [],
                                                   "DataType": "text"}], "NextToken": "n"}),
    ("kms", "Decrypt", {"KeyId": "arn:aws:kms:us-east-1:123456789012:key/k", "Plaintext": b"\x00\xffraw",
                        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("organizations", "DescribeAccount", {"Account": {"Id": "123456789012", "Email": "a@example.com", "Name": "n",
                                                      "Status": "ACTIVE", "JoinedMethod": "CREATED",
                                                      "JoinedTimestamp": NOW}}),
    ("cloudtrail", "LookupEvents", {"Events": [{"EventId": "e", "EventName": "PutParameter", "EventTime": NOW,
                                                "Resources": [{"ResourceType": "AWS::SSM::Parameter",
                                                               "ResourceName": "/a"}],
                                                "CloudTrailEvent": "{}"}]}),
])
def test_responses_round_trip_through_botocore(service: str, op: str, result: dict[str, Any]) -> None:
    model = operation_model(service, op)
    parsed = client_reads("json", model, aws_json.serialize_response(model, result, strict=True))
    parsed.pop("ResponseMetadata")
    assert parsed == result


def test_naive_datetimes_are_taken_as_utc() -> None:
    model = operation_model("organizations", "DescribeAccount")
    body = aws_json.serialize_response(model, {"Account": {"JoinedTimestamp": dt.datetime(2026, 1, 1)}})
    assert json.loads(body) == {"Account": {"JoinedTimestamp": 1767225600.0}}


def test_strict_serialization_refuses_members_the_shape_lacks() -> None:
    model = operation_model("ssm", "GetParameter")
    with pytest.raises(UnknownMemberError):
        aws_json.serialize_response(model, {"Parameter": {"Name": "/a", "Secret": "x"}}, strict=True)
    assert json.loads(aws_json.serialize_response(model, {"Parameter": {"Name": "/a", "Secret": "x"}})) == {
        "Parameter": {"Name": "/a"}}


def test_strict_serialization_refuses_values_of_the_wrong_type() -> None:
    model = operation_model("ssm", "GetParameter")
    with pytest.raises(TypeError):
        aws_json.serialize_response(model, {"Parameter": {"Version": "3"}}, strict=True)
    with pytest.raises(TypeError):
        aws_json.serialize_response(model, {"Parameter": {"Version": True}}, strict=True)


def test_errors_carry_type_and_message_that_botocore_reads() -> None:
    status, headers, body = aws_json.serialize_error("ParameterNotFound", "Parameter /x not found.")
    assert (status, headers["content-type"], headers["x-amzn-errortype"]) == (
        400, "application/x-amz-json-1.1", "ParameterNotFound")
    assert json.loads(body) == {"__type": "ParameterNotFound", "message": "Parameter /x not found."}
    parsed = client_reads("json", operation_model("ssm", "GetParameter"), body, status, headers)
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == ("ParameterNotFound", "Parameter /x not found.")


def test_an_error_without_message_has_only_its_type_and_keeps_its_status() -> None:
    status, _, body = aws_json.serialize_error("InternalServerError", status=500)
    assert (status, json.loads(body)) == (500, {"__type": "InternalServerError"})


def test_a_serialization_error_is_the_serialization_exception() -> None:
    with pytest.raises(SerializationError) as err:
        aws_json.parse_request(operation_model("ssm", "GetParameter"), b"\xff\xfe not json")
    assert err.value.code == "SerializationException"


def test_strict_serialization_refuses_a_union_with_two_members_set() -> None:
    model = operation_model("ssm", "GetCloudConnector")
    both: dict[str, Any] = {"Configuration": {"AzureConfiguration": {}, "GcpConfiguration": {}}}
    with pytest.raises(ValueError, match="union"):
        aws_json.serialize_response(model, both, strict=True)
