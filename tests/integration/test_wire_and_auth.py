"""The wire layer through a real server: malformed input, unknown operations, model validation, SigV4."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from botocore.awsrequest import AWSRequest

from tests.support.server import Credentials, ServerProcess
from tests.support.signing import json_request, query_request, send, sign

REGION = "us-east-1"


def signed_ssm(server: ServerProcess, op: str, body: str, creds: Credentials | None = None) -> object:
    return sign(json_request(server.endpoint, f"AmazonSSM.{op}", body), creds or server.admin, "ssm", REGION)


def test_malformed_json_is_a_serialization_exception(server: ServerProcess) -> None:
    resp = send(signed_ssm(server, "GetParameter", "{not json"))  # type: ignore[arg-type]
    assert resp.status == 400
    assert resp.json()["__type"].endswith("SerializationException")


def test_unknown_json_operation_is_unknown_operation_exception(server: ServerProcess) -> None:
    resp = send(signed_ssm(server, "MakeCoffee", "{}"))  # type: ignore[arg-type]
    assert resp.status == 400
    assert resp.json()["__type"].endswith("UnknownOperationException")


def test_unknown_query_action_is_invalid_action_xml(server: ServerProcess) -> None:
    req = sign(query_request(server.endpoint, "Action=MakeCoffee&Version=2010-05-08"), server.admin, "iam", REGION)
    resp = send(req)
    assert resp.status == 400
    assert b"<ErrorResponse" in resp.body and b"<Code>InvalidAction</Code>" in resp.body


def test_each_query_service_answers_errors_in_its_own_xml_namespace(server: ServerProcess) -> None:
    iam = send(sign(query_request(server.endpoint, "Action=GetUser&UserName=nobody&Version=2010-05-08"),
                    server.admin, "iam", REGION))
    sts = send(sign(query_request(server.endpoint, "Action=AssumeRole&RoleArn=arn:aws:iam::123456789012:role/none"
                                  "&RoleSessionName=s&Version=2011-06-15"), server.admin, "sts", REGION))
    assert b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">' in iam.body
    assert b"<Code>NoSuchEntity</Code>" in iam.body
    assert b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' in sts.body
    assert sts.status in (400, 403)


def test_model_validation_reports_every_broken_constraint_in_aws_words(server: ServerProcess) -> None:
    body = '{"Name": "' + "a" * 2049 + '", "Value": "v", "Type": "Text"}'
    resp = send(signed_ssm(server, "PutParameter", body))  # type: ignore[arg-type]
    assert resp.status == 400
    payload = resp.json()
    assert payload["__type"].endswith("ValidationException")
    message = payload["message"]
    assert message.startswith("2 validation errors detected: ")
    assert "at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048" in message
    assert "Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set" in message


def test_missing_required_member_is_a_validation_error(server: ServerProcess) -> None:
    resp = send(signed_ssm(server, "GetParameter", "{}"))  # type: ignore[arg-type]
    assert resp.json()["message"] == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    )


def test_request_without_any_signature_is_missing_authentication_token(server: ServerProcess) -> None:
    resp = send(json_request(server.endpoint, "AmazonSSM.DescribeParameters", "{}"))
    assert resp.status in (400, 403)
    assert "MissingAuthenticationToken" in resp.json()["__type"]


@pytest.mark.parametrize("tamper", ["body", "header", "region"])
def test_a_tampered_request_is_rejected_as_a_bad_signature(server: ServerProcess, tamper: str) -> None:
    req = signed_ssm(server, "DescribeParameters", '{"MaxResults": 5}')
    if tamper == "body":
        req.data = b'{"MaxResults": 6}'  # type: ignore[attr-defined]
    elif tamper == "header":
        req.headers["X-Amz-Target"] = "AmazonSSM.ListDocuments"  # type: ignore[attr-defined]
    else:
        auth = req.headers["Authorization"]  # type: ignore[attr-defined]
        req.headers.replace_header("Authorization", auth.replace(f"/{REGION}/", "/eu-west-1/"))  # type: ignore[attr-defined]
    resp = send(req)  # type: ignore[arg-type]
    assert resp.status in (400, 403)
    assert resp.json()["__type"].endswith("InvalidSignatureException")


def test_a_request_signed_with_the_wrong_secret_is_rejected(server: ServerProcess) -> None:
    wrong = Credentials(server.admin.access_key_id, "x" * 40)
    resp = send(signed_ssm(server, "DescribeParameters", "{}", wrong))  # type: ignore[arg-type]
    assert resp.json()["__type"].endswith("InvalidSignatureException")


def test_a_request_signed_ten_minutes_ago_is_rejected_as_expired(server: ServerProcess) -> None:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    req = sign(json_request(server.endpoint, "AmazonSSM.DescribeParameters", "{}"), server.admin, "ssm", REGION, when)
    resp = send(req)
    assert resp.json()["__type"].endswith("InvalidSignatureException")
    assert re.search(r"Signature expired: \d{8}T\d{6}Z is now earlier than", resp.json()["message"])


def test_a_request_signed_four_minutes_ago_is_accepted(server: ServerProcess) -> None:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=4)
    req = sign(json_request(server.endpoint, "AmazonSSM.DescribeParameters", "{}"), server.admin, "ssm", REGION, when)
    assert send(req).status == 200


def test_the_region_of_the_credential_scope_is_the_region_served(server: ServerProcess) -> None:
    server.client("ssm", region="eu-west-1").put_parameter(Name="/wire/regional", Value="eu", Type="String")
    eu = server.client("ssm", region="eu-west-1").get_parameter(Name="/wire/regional")["Parameter"]
    assert eu["ARN"].startswith("arn:aws:ssm:eu-west-1:")
    us = server.client("ssm", region="us-east-1")
    with pytest.raises(us.exceptions.ParameterNotFound):
        us.get_parameter(Name="/wire/regional")


def test_presigned_query_request_is_accepted_and_tampering_it_is_not(server: ServerProcess) -> None:
    url = server.endpoint + "/?Action=GetCallerIdentity&Version=2011-06-15"
    req = sign(AWSRequest("GET", url), server.admin, "sts", REGION, presign_expires=300)
    ok = send(req)
    assert ok.status == 200, ok.body
    assert b"<GetCallerIdentityResponse" in ok.body
    req.url = req.url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000")
    refused = send(req)
    assert refused.status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in refused.body


def test_query_protocol_errors_for_bad_signatures_use_query_codes(server: ServerProcess) -> None:
    wrong = Credentials(server.admin.access_key_id, "x" * 40)
    req = sign(query_request(server.endpoint, "Action=ListUsers&Version=2010-05-08"), wrong, "iam", REGION)
    resp = send(req)
    assert resp.status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in resp.body


def test_a_signature_scoped_to_another_service_is_refused(server: ServerProcess) -> None:
    req = sign(json_request(server.endpoint, "AmazonSSM.DescribeParameters", "{}"), server.admin, "kms", REGION)
    resp = send(req)
    assert resp.json()["__type"].endswith("InvalidSignatureException")
    assert "Credential should be scoped to correct service: 'ssm'" in resp.json()["message"]
