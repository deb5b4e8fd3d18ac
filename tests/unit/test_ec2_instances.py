"""Declared EC2-style instances and the credentials the control plane issues to their signed requests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.iam import instance_profiles
from openssm.iam.accounts import create_account
from openssm.iam.roles import NewRole, create_role
from openssm.iam.sessions import resolve_session_credential
from openssm.protocol.instance_identity import CredentialRequest, IdentityError, InstanceIdentity
from openssm.services import ec2_instances
from openssm.services.ec2_instances import NoInstanceProfile
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox
from openssm.types import AccountId
from tests.unit.test_instance_identity import KEY, OTHER, PUBLIC

ACCOUNT, REGION = "111122223333", "eu-west-1"
IDENTITY = InstanceIdentity(ACCOUNT, REGION, "i-0123456789abcdef0", "eu-west-1a")
NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)
BOX = SecretBox(b"k" * 32)


def trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def conn() -> Iterator[Connection]:
    db = open_database("sqlite://")
    with db.begin() as connection:
        create_account(connection, "lab", "lab@example.com", NOW, AccountId(ACCOUNT))
        yield connection


def ask(conn: Connection, kind: str, key: object = KEY, when: dt.datetime = NOW) -> ec2_instances.InstanceCredentials:
    request = CredentialRequest(IDENTITY.document(), kind, when)
    _, signature = CredentialRequest.from_json(request.to_json(key))  # type: ignore[arg-type]
    return ec2_instances.issue_credentials(conn, BOX, request, signature, NOW)


def test_a_declared_instance_gets_identity_credentials_as_ec2_names_them(conn: Connection) -> None:
    ec2_instances.declare(conn, ACCOUNT, REGION, IDENTITY.instance_id, PUBLIC, None, NOW)
    issued = ask(conn, "identity")
    assert issued.role_name is None and issued.credentials.expiration == NOW + dt.timedelta(hours=6)
    resolved = resolve_session_credential(conn, BOX, issued.credentials.access_key_id)
    assert resolved is not None
    assert resolved.caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/aws:ec2-instance/{IDENTITY.instance_id}"
    assert resolved.caller.role_arn is None  # no role, so no policy allows it anything by itself


def test_requests_not_signed_by_the_declared_key_or_for_undeclared_instances_or_stale_are_refused(
        conn: Connection) -> None:
    with pytest.raises(IdentityError):
        ask(conn, "identity")
    ec2_instances.declare(conn, ACCOUNT, REGION, IDENTITY.instance_id, PUBLIC, None, NOW)
    with pytest.raises(IdentityError):
        ask(conn, "identity", key=OTHER)
    with pytest.raises(IdentityError):
        ask(conn, "identity", when=NOW - dt.timedelta(minutes=10))
    assert ec2_instances.undeclare(conn, ACCOUNT, REGION, IDENTITY.instance_id)
    with pytest.raises(IdentityError):
        ask(conn, "identity")


def test_instance_profile_credentials_are_a_session_of_the_profiles_role_named_after_the_instance(
        conn: Connection) -> None:
    role = create_role(conn, ACCOUNT, NewRole("WebRole", trust("ec2.amazonaws.com")), NOW)
    profile = instance_profiles.create_profile(conn, ACCOUNT, "web", "/", NOW)
    instance_profiles.add_role(conn, ACCOUNT, profile.name, role.name)
    ec2_instances.declare(conn, ACCOUNT, REGION, IDENTITY.instance_id, PUBLIC, "web", NOW)
    issued = ask(conn, "instance-profile")
    resolved = resolve_session_credential(conn, BOX, issued.credentials.access_key_id)
    assert issued.role_name == "WebRole" and resolved is not None
    assert resolved.caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/WebRole/{IDENTITY.instance_id}"
    assert resolved.caller.role_arn == role.arn


def test_no_profile_an_empty_profile_or_a_role_not_trusting_ec2_gives_no_profile_credentials(
        conn: Connection) -> None:
    ec2_instances.declare(conn, ACCOUNT, REGION, IDENTITY.instance_id, PUBLIC, None, NOW)
    with pytest.raises(NoInstanceProfile):
        ask(conn, "instance-profile")
    instance_profiles.create_profile(conn, ACCOUNT, "empty", "/", NOW)
    ec2_instances.declare(conn, ACCOUNT, REGION, IDENTITY.instance_id, PUBLIC, "empty", NOW)
    with pytest.raises(NoInstanceProfile, match="has no role"):
        ask(conn, "instance-profile")
    role = create_role(conn, ACCOUNT, NewRole("SsmOnly", trust("ssm.amazonaws.com")), NOW)
    instance_profiles.add_role(conn, ACCOUNT, "empty", role.name)
    with pytest.raises(NoInstanceProfile, match="cannot be assumed by ec2.amazonaws.com"):
        ask(conn, "instance-profile")


def test_declaring_checks_the_ids_and_that_the_profile_exists(conn: Connection) -> None:
    with pytest.raises(IdentityError):
        ec2_instances.declare(conn, ACCOUNT, REGION, "mi-0123456789abcdef0", PUBLIC, None, NOW)
    with pytest.raises(NoInstanceProfile):
        ec2_instances.declare(conn, ACCOUNT, REGION, IDENTITY.instance_id, PUBLIC, "ghost", NOW)
    assert ec2_instances.find(conn, ACCOUNT, REGION, IDENTITY.instance_id) is None
