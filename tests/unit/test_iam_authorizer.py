"""The authorizer on the in-memory store: which policies govern a caller, the global condition keys it
builds, AWS's AccessDenied wording for each kind of denial, PassRole, and its per-principal cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, delete

from openssm.errors import AccessDenied
from openssm.iam import bindings, entities, groups, managed_policies, users
from openssm.iam.entities import EntityKind
from openssm.iam.policy import NamedPolicy, PolicyKind, parse_policy
from openssm.iam.ports import AuthorizationTarget
from openssm.iam.principals import Caller, PrincipalType, root_caller
from openssm.iam.roles import NewRole, create_role
from openssm.store.tables.iam import iam_inline_policies
from openssm.types import AccountId, Arn
from tests.unit.iam_fixtures import ACCOUNT, Iam, allow, deny, policy

PARAM = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/x"
TRUST = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})


@pytest.fixture
def iam() -> Iam:
    return Iam()


def make_user(iam: Iam, name: str, inline: str | None = None, attached: Sequence[str] = (),
              user_tags: dict[str, str] | None = None, boundary: str | None = None) -> Caller:
    with iam.write() as conn:
        user = users.create_user(conn, ACCOUNT, name, "/", iam.clock.now(), user_tags=user_tags,
                                 boundary_arn=boundary)
        if inline:
            bindings.put_inline(conn, user, "inline", inline)
        for arn in attached:
            bindings.attach(conn, user, arn)
    return Caller(AccountId(ACCOUNT), Arn(user.arn), PrincipalType.USER, user.entity_id, name,
                  tags=dict(user_tags or {}))


def denial(iam: Iam, caller: Caller, action: str, resource: str, **keys: object) -> str:
    with pytest.raises(AccessDenied) as err:
        iam.authorizer.authorize(iam.facts(caller), action, [AuthorizationTarget(resource, {})], keys)
    return err.value.message


def test_a_user_without_policies_is_denied_with_aws_message(iam: Iam) -> None:
    alice = make_user(iam, "alice")
    assert denial(iam, alice, "ssm:GetParameter", PARAM) == (
        f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: ssm:GetParameter on resource: "
        f"{PARAM} because no identity-based policy allows the ssm:GetParameter action")


def test_an_inline_or_attached_policy_allows(iam: Iam) -> None:
    inline = make_user(iam, "inline", allow("ssm:GetParameter", PARAM))
    attached = make_user(iam, "attached", attached=["arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"])
    assert iam.allowed(inline, "ssm:GetParameter", PARAM)
    assert iam.allowed(attached, "ssm:GetParameter", PARAM)
    assert not iam.allowed(attached, "ssm:PutParameter", PARAM)


def test_a_groups_inline_and_attached_policies_apply_to_its_members(iam: Iam) -> None:
    bob = make_user(iam, "bob")
    with iam.write() as conn:
        devs = groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        bindings.put_inline(conn, devs, "p", allow("ssm:PutParameter"))
        bindings.attach(conn, devs, "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")
        users.add_to_group(conn, ACCOUNT, "devs", "bob")
    assert iam.allowed(bob, "ssm:PutParameter", PARAM) and iam.allowed(bob, "ssm:GetParameter", PARAM)


def test_an_explicit_deny_wins_and_is_named_in_the_message(iam: Iam) -> None:
    with iam.write() as conn:
        pid = f"arn:aws:iam::{ACCOUNT}:policy/no-secrets"
        managed_policies.create_policy(conn, ACCOUNT, "no-secrets", "/", deny("ssm:GetParameter", PARAM), None,
                                       iam.clock.now())
    admin = make_user(iam, "admin", attached=["arn:aws:iam::aws:policy/AdministratorAccess", pid])
    assert denial(iam, admin, "ssm:GetParameter", PARAM).endswith(
        f"on resource: {PARAM} with an explicit deny in an identity-based policy")
    assert iam.allowed(admin, "ssm:GetParameters", PARAM)


def test_a_permissions_boundary_caps_an_administrator(iam: Iam) -> None:
    capped = make_user(iam, "capped", attached=["arn:aws:iam::aws:policy/AdministratorAccess"],
                       boundary="arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")
    assert iam.allowed(capped, "ssm:GetParameter", PARAM)
    assert denial(iam, capped, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x").endswith(
        "because no permissions boundary allows the iam:CreateUser action")


def test_a_role_session_is_governed_by_the_roles_policies_and_its_session_policy(iam: Iam) -> None:
    with iam.write() as conn:
        role = create_role(conn, ACCOUNT, NewRole("worker", TRUST), iam.clock.now())
        bindings.put_inline(conn, role, "p", allow("ssm:*"))
    session = Caller(AccountId(ACCOUNT), Arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/s1"),
                     PrincipalType.ASSUMED_ROLE, f"{role.entity_id}:s1", "s1", role_arn=Arn(role.arn))
    narrowed = Caller(**{**session.__dict__, "session_policies": (allow("ssm:GetParameter"),)})
    assert iam.allowed(session, "ssm:PutParameter", PARAM)
    assert iam.allowed(narrowed, "ssm:GetParameter", PARAM)
    assert denial(iam, narrowed, "ssm:PutParameter", PARAM) == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/worker/s1 is not authorized to perform: ssm:PutParameter on "
        f"resource: {PARAM} because no session policy allows the ssm:PutParameter action")


def test_the_account_root_may_do_anything_in_its_account(iam: Iam) -> None:
    root = root_caller(AccountId(ACCOUNT))
    assert iam.allowed(root, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x")
    assert iam.allowed(root, "ssm:DeleteParameter", PARAM)


def test_service_control_policies_bind_even_the_root(iam: Iam) -> None:
    scp = parse_policy(deny("ssm:DeleteParameter"), PolicyKind.SCP)
    full = parse_policy(allow("*"), PolicyKind.SCP)

    def levels(_conn: Connection, _account: str) -> Sequence[Sequence[NamedPolicy]]:
        return [[("p-full", full), ("p-deny", scp)]]

    iam.service.directory.set_scp_source(levels)
    root = root_caller(AccountId(ACCOUNT))
    assert iam.allowed(root, "ssm:GetParameter", PARAM)
    assert denial(iam, root, "ssm:DeleteParameter", PARAM).endswith(
        "with an explicit deny in a service control policy")


def test_global_condition_keys_describe_the_caller_and_the_request(iam: Iam) -> None:
    conditions = {
        "StringEquals": {"aws:username": "carol", "aws:PrincipalType": "User",
                         "aws:PrincipalAccount": ACCOUNT, "aws:PrincipalTag/team": "blue",
                         "aws:RequestedRegion": "eu-west-1", "aws:ResourceTag/env": "prod"},
        "Bool": {"aws:SecureTransport": "true"},
        "IpAddress": {"aws:SourceIp": "192.0.2.0/24"},
        "DateGreaterThan": {"aws:CurrentTime": "2025-12-31T00:00:00Z"},
        "NumericGreaterThan": {"aws:EpochTime": "1700000000"},
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/carol"},
    }
    carol = make_user(iam, "carol", allow("ssm:GetParameter", "*", Condition=conditions), user_tags={"team": "blue"})
    target = AuthorizationTarget(PARAM, {"env": "prod"})
    facts = iam.facts(carol, region="eu-west-1")
    assert iam.authorizer.decide(facts, "ssm:GetParameter", target, {}).allowed
    assert not iam.authorizer.decide(iam.facts(carol), "ssm:GetParameter", target, {}).allowed
    untagged = AuthorizationTarget(PARAM, {"env": "dev"})
    assert not iam.authorizer.decide(facts, "ssm:GetParameter", untagged, {}).allowed
    assert not iam.authorizer.decide(iam.facts(carol, region="eu-west-1", source_ip="198.51.100.1"),
                                     "ssm:GetParameter", target, {}).allowed


def test_aws_userid_is_the_users_unique_id(iam: Iam) -> None:
    dave = make_user(iam, "dave", allow("ssm:GetParameter", "*", Condition={
        "StringLike": {"aws:userid": "AIDA*"}}))
    assert iam.allowed(dave, "ssm:GetParameter", PARAM)


def test_operation_condition_keys_reach_the_policy(iam: Iam) -> None:
    erin = make_user(iam, "erin", allow("ssm:PutParameter", "*", Condition={
        "StringEquals": {"aws:RequestTag/env": "dev"}, "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]},
        "Bool": {"ssm:Overwrite": "false"}}))
    good = {"aws:RequestTag/env": "dev", "aws:TagKeys": ["env"], "ssm:Overwrite": False}
    assert iam.allowed(erin, "ssm:PutParameter", PARAM, keys=good)
    assert not iam.allowed(erin, "ssm:PutParameter", PARAM, keys={**good, "ssm:Overwrite": True})
    assert not iam.allowed(erin, "ssm:PutParameter", PARAM, keys={**good, "aws:TagKeys": ["env", "owner"]})


def test_every_target_must_be_allowed(iam: Iam) -> None:
    frank = make_user(iam, "frank", allow("ssm:GetParameters", PARAM))
    other = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/y"
    with pytest.raises(AccessDenied, match=f"on resource: {other} because"):
        iam.authorizer.authorize(iam.facts(frank), "ssm:GetParameters",
                                 [AuthorizationTarget(PARAM, {}), AuthorizationTarget(other, {})], {})


def test_pass_role_is_checked_with_the_service_the_role_is_passed_to(iam: Iam) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/service-role/automation"
    grace = make_user(iam, "grace", allow("iam:PassRole", role, Condition={
        "StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}))
    iam.authorizer.authorize_pass_role(iam.facts(grace), role, "ssm.amazonaws.com")
    with pytest.raises(AccessDenied, match=f"iam:PassRole on resource: {role} because no identity-based"):
        iam.authorizer.authorize_pass_role(iam.facts(grace), role, "ec2.amazonaws.com")


def test_seed_000_principal_policy_denies_passing_the_default_host_management_role(iam: Iam) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
    seed = policy({"Effect": "Deny", "Action": ["iam:AttachRolePolicy", "iam:DeleteRole", "iam:PassRole"],
                   "Resource": role})
    hank = make_user(iam, "hank", seed, attached=["arn:aws:iam::aws:policy/AdministratorAccess"])
    with pytest.raises(AccessDenied, match="with an explicit deny in an identity-based policy"):
        iam.authorizer.authorize_pass_role(iam.facts(hank), role, "ssm.amazonaws.com")
    assert iam.allowed(hank, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/other")


def test_policy_sets_are_cached_per_principal_until_an_iam_write(iam: Iam) -> None:
    ivy = make_user(iam, "ivy", allow("ssm:GetParameter"))
    assert iam.allowed(ivy, "ssm:GetParameter", PARAM)
    with iam.db.begin() as conn:  # behind IAM's back: the cached set still answers
        conn.execute(delete(iam_inline_policies))
    assert iam.allowed(ivy, "ssm:GetParameter", PARAM)
    with iam.write() as conn:
        bindings.put_inline(conn, entities.get(conn, ACCOUNT, EntityKind.USER, "ivy"), "other", allow("ssm:Put*"))
    assert not iam.allowed(ivy, "ssm:GetParameter", PARAM)
    assert iam.allowed(ivy, "ssm:PutParameter", PARAM)


def test_a_cached_policy_set_expires_after_its_ttl(iam: Iam, monkeypatch: pytest.MonkeyPatch) -> None:
    jo = make_user(iam, "jo", allow("ssm:GetParameter"))
    now = [5000.0]
    monkeypatch.setattr("openssm.iam.directory.time.monotonic", lambda: now[0])
    assert iam.allowed(jo, "ssm:GetParameter", PARAM)
    with iam.db.begin() as conn:  # as another replica's write would look from here
        conn.execute(delete(iam_inline_policies))
    now[0] += 2.5
    assert not iam.allowed(jo, "ssm:GetParameter", PARAM)


def test_current_time_conditions_follow_the_request_time(iam: Iam) -> None:
    kim = make_user(iam, "kim", allow("ssm:GetParameter", "*", Condition={
        "DateLessThan": {"aws:CurrentTime": "2026-01-01T12:00:00Z"}}))
    assert iam.allowed(kim, "ssm:GetParameter", PARAM)
    iam.clock.advance(hours=13)
    assert iam.clock.now() > dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    assert not iam.allowed(kim, "ssm:GetParameter", PARAM)
