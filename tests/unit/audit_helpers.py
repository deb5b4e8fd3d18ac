"""Building API call records and audit trails for the audit unit tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from openssm.clock import FakeClock
from openssm.iam.principals import Caller, PrincipalType, root_caller
from openssm.protocol.trail_parameters import trail_parameters
from openssm.services.audit import AuditTrail
from openssm.services.audit_record import ApiCallRecord
from openssm.store.db import Database
from openssm.types import AccessKeyId, AccountId, Arn

KEY = b"k" * 32
ACCOUNT = AccountId("111111111111")
OTHER = AccountId("222222222222")
DEFAULT = AccountId("123456789012")
CLOCK = FakeClock(dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC))


def user(name: str = "alice", account: str = ACCOUNT, key: str = "AKIAALICE0000000001") -> Caller:
    return Caller(AccountId(account), Arn(f"arn:aws:iam::{account}:user/{name}"), PrincipalType.USER,
                  f"AIDA{name.upper()}", name, AccessKeyId(key))


def role_session(role: str = "deployer", session: str = "ci-run", account: str = ACCOUNT) -> Caller:
    return Caller(AccountId(account), Arn(f"arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                  PrincipalType.ASSUMED_ROLE, f"AROADEPLOYER:{session}", session, AccessKeyId("ASIASESSION000000001"),
                  role_arn=Arn(f"arn:aws:iam::{account}:role/{role}"), source_identity="build-42")


def root(account: str = ACCOUNT) -> Caller:
    return root_caller(AccountId(account), AccessKeyId("AKIAROOT00000000001"))


def call(name: str = "GetParameter", *, service: str = "ssm", caller: Caller | None = None,
         params: dict[str, Any] | None = None, secret: frozenset[str] = frozenset(), error: str | None = None,
         when: dt.datetime | None = None, read_only: bool = True, key: str | None = None,
         region: str = "eu-west-1") -> ApiCallRecord:
    """One call; `caller` None is an unauthenticated call claiming `key`."""
    access_key = key if key is not None else (caller.access_key_id or "" if caller else "")
    return ApiCallRecord(
        event_time=when or CLOCK.now(), request_id=str(uuid.uuid4()), service=service, event_name=name,
        region=region, source_ip="10.1.2.3", user_agent="Boto3/1.34 test", caller=caller,
        access_key_id=access_key, request_parameters=params, secret_parameters=secret,
        error_code=error, error_message=f"{error} happened" if error else None, read_only=read_only)


def trail(db: Database) -> AuditTrail:
    return AuditTrail(db, chain_key=KEY, default_account=DEFAULT, default_region="us-east-1",
                      render=trail_parameters)
