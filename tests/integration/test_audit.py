"""The audit trail through a real server: every call recorded, secrets never stored, tampering detected."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from tests.support.iam import unique, user_with_policy
from tests.support.server import Credentials, ServerProcess


def events(server: ServerProcess, key: str, value: str, creds: Credentials | None = None) -> list[dict]:
    ct = server.client("cloudtrail", creds)
    found = ct.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])["Events"]
    return [json.loads(e["CloudTrailEvent"]) | {"_summary": e} for e in found]


def test_allowed_and_denied_calls_are_recorded_with_identity_and_error(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, None)
    with pytest.raises(ClientError):
        server.client("ssm", creds).describe_parameters()
    recorded = [e for e in events(server, "Username", user) if e["eventName"] == "DescribeParameters"]
    assert recorded, "the denied call is in the trail"
    event = recorded[0]
    assert event["errorCode"] == "AccessDeniedException"
    assert event["userIdentity"]["type"] == "IAMUser"
    assert event["userIdentity"]["userName"] == user
    assert event["userIdentity"]["accessKeyId"] == creds.access_key_id
    assert event["sourceIPAddress"] == "127.0.0.1"
    assert event["eventSource"] == "ssm.amazonaws.com"
    assert event["readOnly"] is True


def test_a_call_with_a_bad_signature_is_recorded_as_unauthenticated(server: ServerProcess) -> None:
    wrong = Credentials(server.admin.access_key_id, "w" * 40)
    with pytest.raises(ClientError):
        server.client("ssm", wrong).describe_parameters()
    recorded = events(server, "AccessKeyId", server.admin.access_key_id)
    assert any(e.get("errorCode") == "InvalidSignatureException" for e in recorded)


def test_secure_string_values_never_reach_the_trail(server: ServerProcess) -> None:
    name = "/" + unique("audit") + "/secret"
    server.client("ssm").put_parameter(Name=name, Value="plaintext-do-not-log", Type="SecureString")
    recorded = events(server, "ResourceName", name)
    put = next(e for e in recorded if e["eventName"] == "PutParameter")
    assert put["requestParameters"]["Value"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert "plaintext-do-not-log" not in json.dumps(recorded, default=str)


def test_secure_string_plaintext_is_nowhere_in_the_database_file(fresh_server: Callable[..., ServerProcess]) -> None:
    server = fresh_server()
    ssm = server.client("ssm")
    ssm.put_parameter(Name="/audit/file/secret", Value="plaintext-not-on-disk", Type="SecureString")
    assert ssm.get_parameter(Name="/audit/file/secret", WithDecryption=True)["Parameter"]["Value"] == \
        "plaintext-not-on-disk"
    server.stop()
    for path in server.data_dir.iterdir():
        assert b"plaintext-not-on-disk" not in path.read_bytes(), path


def test_lookup_events_validates_attributes_time_range_and_pages(server: ServerProcess) -> None:
    ct = server.client("cloudtrail")
    with pytest.raises(ClientError) as err:
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                           {"AttributeKey": "Username", "AttributeValue": "b"}])
    assert err.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(ClientError) as err:
        ct.lookup_events(StartTime=now, EndTime=now - dt.timedelta(hours=1))
    assert err.value.response["Error"]["Code"] == "InvalidTimeRangeException"
    for _ in range(3):
        server.client("sts").get_caller_identity()
    first = ct.lookup_events(MaxResults=2)
    assert len(first["Events"]) == 2 and "NextToken" in first
    second = ct.lookup_events(MaxResults=2, NextToken=first["NextToken"])
    assert {e["EventId"] for e in first["Events"]}.isdisjoint(e["EventId"] for e in second["Events"])
    times = [e["EventTime"] for e in first["Events"] + second["Events"]]
    assert times == sorted(times, reverse=True)


def test_the_aws_cli_looks_up_events_by_name(server: ServerProcess) -> None:
    server.client("iam").list_users()
    out = server.aws_json("cloudtrail", "lookup-events", "--lookup-attributes",
                          "AttributeKey=EventName,AttributeValue=ListUsers", "--max-results", "5")
    assert out["Events"] and all(e["EventName"] == "ListUsers" for e in out["Events"])


def _verify(server: ServerProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openssm", "audit", "verify", "--data-dir", str(server.data_dir)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("tamper", ["alter", "remove", "reorder"])
def test_audit_verify_detects_a_tampered_trail(fresh_server: Callable[..., ServerProcess], tamper: str) -> None:
    server = fresh_server()
    for _ in range(5):
        server.client("sts").get_caller_identity()
    server.stop()
    clean = _verify(server)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "audit trail ok" in clean.stdout
    db = sqlite3.connect(server.data_dir / "openssm.db")
    if tamper == "alter":
        db.execute("UPDATE audit_events SET event_json = replace(event_json, '127.0.0.1', '10.9.9.9') WHERE seq = 3")
    elif tamper == "remove":
        db.execute("DELETE FROM audit_events WHERE seq = 3")
    else:
        rows = db.execute("SELECT seq, event_json, prev_hash, hash FROM audit_events WHERE seq IN (2, 3)").fetchall()
        for (seq, *_), (_, event_json, prev_hash, digest) in zip(rows, reversed(rows), strict=True):
            db.execute("UPDATE audit_events SET event_json = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                       (event_json, prev_hash, digest, seq))
    db.commit()
    db.close()
    broken = _verify(server)
    assert broken.returncode == 1
    assert "BROKEN at record" in broken.stdout
