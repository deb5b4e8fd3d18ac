"""The audit trail through a real server: every call recorded, secrets never stored, tampering detected."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openssm.services.audit_chain import verify_chain
from openssm.services.audit_query import iter_chain, lookup, read_head
from openssm.store.db import open_database
from tests.support.iam import allow, unique, user_with_policy
from tests.support.server import Credentials, ServerProcess
from tests.support.signing import json_request, send
from tests.unit.audit_helpers import ACCOUNT, KEY, call, trail, user

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"



def events(server: ServerProcess, key: str, value: str, creds: Credentials | None = None,
           **kw: Any) -> list[dict[str, Any]]:
    """The CloudTrail events LookupEvents finds, each with LookupEvents' own summary under "_summary"."""
    ct = server.client("cloudtrail", creds)
    found = ct.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], **kw)["Events"]
    return [json.loads(e["CloudTrailEvent"]) | {"_summary": e} for e in found]


def test_an_allowed_call_is_recorded_with_who_what_and_where(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("ssm:GetParameter"))
    name = "/" + unique("audit") + "/allowed"
    server.client("ssm").put_parameter(Name=name, Value="v", Type="String")
    server.client("ssm", creds).get_parameter(Name=name)
    [event] = events(server, "Username", user)
    assert event["eventName"] == "GetParameter" and "errorCode" not in event
    assert event["userIdentity"] == {
        "type": "IAMUser", "principalId": event["userIdentity"]["principalId"],
        "arn": f"arn:aws:iam::123456789012:user/{user}", "accountId": "123456789012",
        "accessKeyId": creds.access_key_id, "userName": user}
    assert event["userIdentity"]["principalId"].startswith("AIDA")
    assert (event["eventSource"], event["awsRegion"], event["sourceIPAddress"]) == \
        ("ssm.amazonaws.com", "us-east-1", "127.0.0.1")
    assert event["userAgent"].startswith("Boto3/")
    assert event["requestParameters"] == {"name": name}
    assert (event["readOnly"], event["eventType"], event["recipientAccountId"]) == (True, "AwsApiCall", "123456789012")
    summary = event["_summary"]
    assert (summary["EventName"], summary["Username"], summary["AccessKeyId"], summary["ReadOnly"]) == \
        ("GetParameter", user, creds.access_key_id, "true")
    assert summary["Resources"] == [{"ResourceType": "AWS::SSM::Parameter", "ResourceName": name}]
    assert summary["EventId"] == event["eventID"]


def test_a_denied_call_is_recorded_with_its_error(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, None)
    with pytest.raises(ClientError):
        server.client("ssm", creds).describe_parameters()
    [event] = events(server, "Username", user)
    assert event["eventName"] == "DescribeParameters"
    assert event["errorCode"] == "AccessDeniedException"
    assert f"user/{user} is not authorized to perform: ssm:DescribeParameters" in event["errorMessage"]
    assert event["userIdentity"]["userName"] == user


def test_a_call_with_a_bad_signature_is_recorded_as_unauthenticated(server: ServerProcess) -> None:
    wrong = Credentials(server.admin.access_key_id, "w" * 40)
    with pytest.raises(ClientError) as err:
        server.client("ssm", wrong).describe_parameters()
    request_id = err.value.response["ResponseMetadata"]["RequestId"]
    [event] = [e for e in events(server, "AccessKeyId", server.admin.access_key_id) if e["requestID"] == request_id]
    assert event["errorCode"] == "InvalidSignatureException"
    assert event["userIdentity"] == {"type": "Unknown", "accessKeyId": server.admin.access_key_id}
    assert event["recipientAccountId"] == "123456789012"


def test_an_unsigned_call_is_recorded_in_the_default_account(server: ServerProcess) -> None:
    resp = send(json_request(server.endpoint, "AmazonSSM.DescribeParameters", "{}"))
    request_id = {k.lower(): v for k, v in resp.headers.items()}["x-amzn-requestid"]
    [event] = [e for e in events(server, "EventName", "DescribeParameters") if e["requestID"] == request_id]
    assert event["errorCode"].startswith("MissingAuthenticationToken")
    assert event["userIdentity"] == {"type": "Unknown"}


def test_secure_string_values_never_reach_the_trail(server: ServerProcess) -> None:
    name = "/" + unique("audit") + "/secret"
    server.client("ssm").put_parameter(Name=name, Value="plaintext-do-not-log", Type="SecureString")
    recorded = events(server, "ResourceName", name)
    put = next(e for e in recorded if e["eventName"] == "PutParameter")
    assert put["requestParameters"] == {"name": name, "value": HIDDEN, "type": "SecureString"}
    assert "plaintext-do-not-log" not in json.dumps(recorded, default=str)


def test_secret_values_are_nowhere_in_the_database_file(fresh_server: Callable[..., ServerProcess]) -> None:
    server = fresh_server()
    ssm = server.client("ssm")
    ssm.put_parameter(Name="/audit/file/secret", Value="plaintext-not-on-disk", Type="SecureString")
    ssm.put_parameter(Name="/audit/file/plain", Value="string-value-not-in-trail", Type="String")
    assert ssm.get_parameter(Name="/audit/file/secret", WithDecryption=True)["Parameter"]["Value"] == \
        "plaintext-not-on-disk"
    kms = server.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]  # the AWS managed aws/ssm key serves only through SSM
    kms.encrypt(KeyId=key, Plaintext=b"kms-plaintext-not-on-disk")
    created = server.client("iam").create_access_key()["AccessKey"]
    server.stop()
    db = sqlite3.connect(server.data_dir / "openssm.db")
    trail = "\n".join(row[0] for row in db.execute("SELECT event_json FROM audit_events"))
    db.close()
    assert '"eventName":"Encrypt"' in trail and '"eventName":"CreateAccessKey"' in trail
    assert "string-value-not-in-trail" not in trail
    for path in server.data_dir.iterdir():
        data = path.read_bytes()
        for secret in (b"plaintext-not-on-disk", b"kms-plaintext-not-on-disk", created["SecretAccessKey"].encode()):
            assert secret not in data, (path, secret)


def test_lookup_events_refuses_two_attributes_a_reversed_range_and_a_bad_token(server: ServerProcess) -> None:
    ct = server.client("cloudtrail")
    with pytest.raises(ClientError) as err:
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                           {"AttributeKey": "Username", "AttributeValue": "b"}])
    assert err.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(ClientError) as err:
        ct.lookup_events(StartTime=now, EndTime=now - dt.timedelta(hours=1))
    assert err.value.response["Error"]["Code"] == "InvalidTimeRangeException"
    with pytest.raises(ClientError) as err:
        ct.lookup_events(NextToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_lookup_events_pages_newest_first(server: ServerProcess) -> None:
    ct = server.client("cloudtrail")
    for _ in range(3):
        server.client("sts").get_caller_identity()
    first = ct.lookup_events(MaxResults=2)
    assert len(first["Events"]) == 2 and "NextToken" in first
    second = ct.lookup_events(MaxResults=2, NextToken=first["NextToken"])
    assert {e["EventId"] for e in first["Events"]}.isdisjoint(e["EventId"] for e in second["Events"])
    times = [e["EventTime"] for e in first["Events"] + second["Events"]]
    assert times == sorted(times, reverse=True)
    user, creds = user_with_policy(server, None)
    for _ in range(5):
        server.client("sts", creds).get_caller_identity()
    pages = list(ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": user}], PaginationConfig={"PageSize": 2}))
    assert [len(page["Events"]) for page in pages] == [2, 2, 1]
    ids = [e["EventId"] for page in pages for e in page["Events"]]
    assert len(set(ids)) == 5


def test_lookup_events_honours_the_time_range(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("sts:GetCallerIdentity"))
    before = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=1)
    server.client("sts", creds).get_caller_identity()
    ct_filter = [{"AttributeKey": "Username", "AttributeValue": user}]
    ct = server.client("cloudtrail")
    assert len(ct.lookup_events(LookupAttributes=ct_filter, StartTime=before)["Events"]) == 1
    assert ct.lookup_events(LookupAttributes=ct_filter, EndTime=before)["Events"] == []
    assert ct.lookup_events(LookupAttributes=ct_filter, StartTime=before + dt.timedelta(hours=1))["Events"] == []


def test_insights_events_are_none(server: ServerProcess) -> None:
    assert server.client("cloudtrail").lookup_events(EventCategory="insight")["Events"] == []


def test_the_aws_cli_looks_up_events_by_name(server: ServerProcess) -> None:
    server.client("iam").list_users()
    out = server.aws_json("cloudtrail", "lookup-events", "--lookup-attributes",
                          "AttributeKey=EventName,AttributeValue=ListUsers", "--max-results", "5")
    assert out["Events"] and all(e["EventName"] == "ListUsers" for e in out["Events"])
    assert json.loads(out["Events"][0]["CloudTrailEvent"])["eventSource"] == "iam.amazonaws.com"


def test_lookup_events_is_authorized_like_any_call(server: ServerProcess) -> None:
    _, creds = user_with_policy(server, allow("ssm:GetParameter"))
    with pytest.raises(ClientError) as err:
        server.client("cloudtrail", creds).lookup_events()
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in err.value.response["Error"]["Message"]


def test_a_member_account_sees_only_its_own_events_with_the_role_session_identity(
    fresh_server: Callable[..., ServerProcess]
) -> None:
    server = fresh_server()
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="audited", Email="audited@example.com")["CreateAccountStatus"]["AccountId"]
    assumed = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="auditor")["Credentials"]
    creds = Credentials(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])
    server.client("ssm", creds).describe_parameters()
    [event] = events(server, "EventName", "DescribeParameters", creds)
    identity = event["userIdentity"]
    assert (identity["type"], identity["accountId"], event["recipientAccountId"]) == ("AssumedRole", member, member)
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == \
        f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    assert event["_summary"]["Username"] == "auditor"
    management = server.client("cloudtrail").lookup_events()["Events"]
    assert management and all(json.loads(e["CloudTrailEvent"])["recipientAccountId"] == "123456789012"
                              for e in management)


def _verify(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openssm", "audit", "verify", "--data-dir", str(server.data_dir),
                           *args], capture_output=True, text=True)


def _tamper(server: ServerProcess, statements: list[str]) -> None:
    db = sqlite3.connect(server.data_dir / "openssm.db")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


_SWAP_2_AND_3 = [  # records 2 and 3 trade places, each keeping its own content and hashes
    "UPDATE audit_events SET seq = -seq WHERE seq IN (2, 3)",
    "UPDATE audit_events SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq IN (-2, -3)",
]


@pytest.mark.parametrize(("tamper", "statements", "broken_at"), [
    ("alter", ["UPDATE audit_events SET event_json = replace(event_json, '127.0.0.1', '10.9.9.9') WHERE seq = 3"], 3),
    ("hide", ["UPDATE audit_events SET account_id = '999999999999' WHERE seq = 3"], 3),
    ("remove", ["DELETE FROM audit_events WHERE seq = 3"], 3),
    ("reorder", _SWAP_2_AND_3, 2),
    ("truncate", ["DELETE FROM audit_events WHERE seq >= 5"], 5),
])
def test_audit_verify_names_the_record_where_the_trail_was_tampered(
    fresh_server: Callable[..., ServerProcess], tamper: str, statements: list[str], broken_at: int
) -> None:
    server = fresh_server()
    for _ in range(6):
        server.client("sts").get_caller_identity()
    server.stop()
    clean = _verify(server)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("audit trail ok: ")
    _tamper(server, statements)
    broken = _verify(server)
    assert broken.returncode == 1, broken.stdout
    assert broken.stdout.startswith(f"audit trail BROKEN at record {broken_at}: "), broken.stdout


def test_an_anchor_from_an_earlier_verify_catches_a_trail_cut_back_with_its_head(
    fresh_server: Callable[..., ServerProcess]
) -> None:
    server = fresh_server()
    for _ in range(3):
        server.client("sts").get_caller_identity()
    server.stop()
    db = sqlite3.connect(server.data_dir / "openssm.db")
    old_head = db.execute("SELECT seq, hash, mac FROM audit_head").fetchone()  # what an intruder might keep
    db.close()
    server = fresh_server(name="data")  # the same data directory, restarted
    for _ in range(3):
        server.client("sts").get_caller_identity()
    server.stop()
    anchor = _verify(server).stdout.split("anchor ")[1].strip()
    assert anchor.startswith("6:")
    _tamper(server, ["DELETE FROM audit_events WHERE seq > 3",
                     "UPDATE audit_head SET seq = {}, hash = '{}', mac = '{}'".format(*old_head)])
    assert _verify(server).returncode == 0  # the database alone cannot tell
    cut = _verify(server, "--anchor", anchor)
    assert cut.returncode == 1
    assert cut.stdout.startswith("audit trail BROKEN at record 4: records 4 to 6 were removed from the end")


def test_audit_verify_passes_on_a_live_trail_and_counts_its_records(server: ServerProcess) -> None:
    server.client("sts").get_caller_identity()
    server.client("cloudtrail").lookup_events(MaxResults=1)  # flushes the writer
    result = _verify(server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split("ok: ")[1].split(" records")[0]) > 1


def test_on_postgresql_concurrent_writers_keep_one_chain_and_lookups_match_whole_names(postgres_url: str) -> None:
    dbs = [open_database(postgres_url), open_database(postgres_url)]
    writers = [trail(db) for db in dbs]  # two replicas' writers

    def calls(n: int) -> None:
        for i in range(40):
            writers[(n + i) % 2].record(call(caller=user(), params={"Names": ["/Shared/x", f"/own/{n}"]}))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(calls, range(6)))
    for writer in writers:
        writer.close()
    with dbs[0].read() as conn:
        report = verify_chain(KEY, iter_chain(conn), read_head(conn))
        first = lookup(conn, ACCOUNT, [("ResourceName", "/Shared/x")], None, None, 50, None)
        rest = lookup(conn, ACCOUNT, [("ResourceName", "/Shared/x")], None, None, 50, first.next_token)
        other_case = lookup(conn, ACCOUNT, [("ResourceName", "/shared/x")], None, None, 50, None)
        own = lookup(conn, ACCOUNT, [("ResourceName", "/own/3")], None, None, 50, None)
    for db in dbs:
        db.dispose()
    assert report.ok and report.count == 240, report.reason
    assert (len(first.events), len(rest.events), len(other_case.events), len(own.events)) == (50, 50, 0, 40)
    assert {e.seq for e in first.events}.isdisjoint(e.seq for e in rest.events)
