"""Audit events as CloudTrail writes them: request parameters by the model, secrets hidden, who and where."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from openssm.protocol.trail_parameters import REDACTED, trail_parameters
from openssm.services.audit_events import build_event
from openssm.services.audit_record import ApiCallRecord
from tests.unit.audit_helpers import ACCOUNT, DEFAULT, call, role_session, root, user


def stored(record: ApiCallRecord) -> dict[str, Any]:
    event = build_event(record, default_account=DEFAULT, default_region="us-east-1", render=trail_parameters)
    return dict(json.loads(event.event_json))


def test_request_parameters_use_cloudtrails_lower_camel_case_member_names() -> None:
    assert trail_parameters("ssm", "GetParameter", {"Name": "/app/db", "WithDecryption": True}) == \
        {"name": "/app/db", "withDecryption": True}
    tags = trail_parameters("iam", "CreateUser", {"UserName": "bob", "Tags": [{"Key": "team", "Value": "x"}]})
    assert tags == {"userName": "bob", "tags": [{"key": "team", "value": "x"}]}


def test_a_put_parameter_value_is_hidden_whatever_its_type_as_the_model_marks_it_sensitive() -> None:
    for kind in ("String", "SecureString"):
        rendered = trail_parameters("ssm", "PutParameter", {"Name": "/p", "Value": "s3cr3t", "Type": kind})
        assert rendered == {"name": "/p", "value": REDACTED, "type": kind}


def test_sensitive_shapes_of_other_services_are_hidden_too() -> None:
    rendered = trail_parameters("organizations", "CreateAccount", {"Email": "a@example.com", "AccountName": "dev"})
    assert rendered == {"email": REDACTED, "accountName": REDACTED}


def test_an_operations_declared_secret_members_are_hidden() -> None:
    rendered = trail_parameters("ssm", "GetParameter", {"Name": "/p"}, frozenset({"Name"}))
    assert rendered == {"name": REDACTED}


def test_always_secret_members_are_hidden_at_any_depth_even_without_a_model() -> None:
    rendered = trail_parameters("nosuch", "Op", {"Outer": {"SecretAccessKey": "wJalr", "Kept": 1}})
    assert rendered == {"Outer": {"SecretAccessKey": REDACTED, "Kept": 1}}


def test_map_keys_keep_the_callers_spelling_and_blobs_are_never_kept() -> None:
    rendered = trail_parameters("kms", "Encrypt", {"KeyId": "alias/app", "Plaintext": b"secret",
                                                   "EncryptionContext": {"Department": "Finance"}})
    assert rendered == {"keyId": "alias/app", "plaintext": REDACTED, "encryptionContext": {"Department": "Finance"}}


def test_timestamps_are_written_in_utc_like_event_time() -> None:
    when = dt.datetime(2026, 3, 1, 13, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert trail_parameters("cloudtrail", "LookupEvents", {"StartTime": when}) == {"startTime": "2026-03-01T12:30:00Z"}


def test_an_event_carries_cloudtrails_fields() -> None:
    event = stored(call("GetParameter", caller=user(), params={"Name": "/app/db"}))
    assert event["eventVersion"] == "1.08"
    assert (event["eventSource"], event["eventName"], event["awsRegion"]) == \
        ("ssm.amazonaws.com", "GetParameter", "eu-west-1")
    assert (event["sourceIPAddress"], event["userAgent"]) == ("10.1.2.3", "Boto3/1.34 test")
    assert event["eventTime"] == "2026-03-01T12:00:00Z"
    assert event["requestParameters"] == {"name": "/app/db"}
    assert event["responseElements"] is None
    assert (event["eventType"], event["managementEvent"], event["readOnly"]) == ("AwsApiCall", True, True)
    assert event["recipientAccountId"] == ACCOUNT
    assert "errorCode" not in event


def test_an_iam_user_is_identified_with_its_key_and_name() -> None:
    identity = stored(call(caller=user("alice")))["userIdentity"]
    assert identity == {"type": "IAMUser", "principalId": "AIDAALICE", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
                        "accountId": ACCOUNT, "accessKeyId": "AKIAALICE0000000001", "userName": "alice"}


def test_a_role_session_names_the_role_that_issued_it() -> None:
    identity = stored(call(caller=role_session()))["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-run"
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": "AROADEPLOYER", "arn": f"arn:aws:iam::{ACCOUNT}:role/deployer",
        "accountId": ACCOUNT, "userName": "deployer"}
    assert identity["sessionContext"]["attributes"] == {"mfaAuthenticated": "false"}
    assert identity["sessionContext"]["sourceIdentity"] == "build-42"


def test_the_root_user_is_identified_as_root() -> None:
    assert stored(call(caller=root()))["userIdentity"]["type"] == "Root"


def test_an_unauthenticated_call_belongs_to_the_default_account_with_the_key_it_claimed() -> None:
    record = call("DescribeParameters", caller=None, key="AKIAUNKNOWN00000001", error="UnrecognizedClientException",
                  region="")
    event = build_event(record, default_account=DEFAULT, default_region="us-east-1", render=trail_parameters)
    body = json.loads(event.event_json)
    assert body["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIAUNKNOWN00000001"}
    assert (body["errorCode"], body["errorMessage"]) == ("UnrecognizedClientException",
                                                         "UnrecognizedClientException happened")
    assert body["awsRegion"] == "us-east-1"
    assert (event.account_id, body["recipientAccountId"]) == (DEFAULT, DEFAULT)
    assert (event.access_key_id, event.username) == ("AKIAUNKNOWN00000001", None)


def test_lookup_columns_name_the_user_session_or_root() -> None:
    def name(record: ApiCallRecord) -> str | None:
        return build_event(record, default_account=DEFAULT, default_region="us-east-1",
                           render=trail_parameters).username
    assert (name(call(caller=user("alice"))), name(call(caller=role_session())), name(call(caller=root()))) == \
        ("alice", "ci-run", "root")


def test_resources_come_from_the_members_naming_them() -> None:
    def resources(record: ApiCallRecord) -> tuple[str | None, tuple[str, ...]]:
        event = build_event(record, default_account=DEFAULT, default_region="us-east-1", render=trail_parameters)
        return event.resource_type, event.resource_names
    assert resources(call(params={"Names": ["/a", "/b"]})) == ("AWS::SSM::Parameter", ("/a", "/b"))
    assert resources(call("CreateUser", service="iam", params={"UserName": "bob"})) == ("AWS::IAM::User", ("bob",))
    assert resources(call(params={"Name": "/a"}, secret=frozenset({"Name"}))) == (None, ())
    assert resources(call("ListUsers", service="iam", params={})) == (None, ())
    assert resources(call("CreatePolicy", service="organizations", params={"Name": "no-put"})) == (None, ())


def test_caller_chosen_names_are_clamped_so_the_database_never_refuses_the_event() -> None:
    record = call("X" * 300 + "\x00", caller=None, key="K" * 200)
    event = build_event(record, default_account=DEFAULT, default_region="us-east-1", render=trail_parameters)
    assert event.event_name == "X" * 128
    assert event.access_key_id is None
    assert json.loads(event.event_json)["eventName"] == "X" * 300 + "\x00"  # the event itself keeps it whole


def test_event_time_is_kept_to_the_second_as_cloudtrail_reports_it() -> None:
    record = call(when=dt.datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=dt.UTC))
    event = build_event(record, default_account=DEFAULT, default_region="us-east-1", render=trail_parameters)
    assert event.event_time == dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
