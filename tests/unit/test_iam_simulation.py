"""The policy simulator and GetAccountAuthorizationDetails on the in-memory store."""

from __future__ import annotations

import pytest

from openssm.iam import bindings, groups, instance_profiles, managed_policies, users
from openssm.iam.account_details import DetailFilter, account_details
from openssm.iam.errors import InvalidInput
from openssm.iam.policy import Effect, PolicyKind, parse_policy
from openssm.iam.roles import NewRole, create_role
from openssm.iam.simulate import SimulationInput, named_inputs, principal_policies, simulate
from tests.unit.iam_fixtures import ACCOUNT, Iam, allow, policy

SETTING = f"arn:aws:ssm:us-east-1:{ACCOUNT}:servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
DHMC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
# Seed 000, "IAM principal policy": no group, role or user may change the DHMC setting or its role.
SEED_000_DENY = policy(
    {"Effect": "Deny", "Action": ["ssm:UpdateServiceSetting", "ssm:ResetServiceSetting"], "Resource": SETTING},
    {"Effect": "Deny", "Action": ["iam:AttachRolePolicy", "iam:DeleteRole", "iam:PassRole"], "Resource": DHMC_ROLE})
TRUST = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})


@pytest.fixture
def iam() -> Iam:
    return Iam()


def test_seed_000_deny_beats_an_allow_for_every_action_it_names() -> None:
    identity = named_inputs([allow("*"), SEED_000_DENY], "PolicyInputList.")
    actions = ["ssm:UpdateServiceSetting", "ssm:ResetServiceSetting", "ssm:GetServiceSetting"]
    results = simulate(SimulationInput(actions, [SETTING], {}, identity))
    assert [r.decision.effect for r in results] == [Effect.EXPLICIT_DENY, Effect.EXPLICIT_DENY, Effect.ALLOWED]
    assert results[0].decision.matched[0].policy_id == "PolicyInputList.2"
    role_results = simulate(SimulationInput(["iam:PassRole", "iam:DeleteRole", "iam:GetRole"], [DHMC_ROLE], {},
                                            identity))
    assert [r.decision.effect for r in role_results] == [Effect.EXPLICIT_DENY, Effect.EXPLICIT_DENY, Effect.ALLOWED]


def test_a_simulated_boundary_limits_the_identity_policies() -> None:
    identity = named_inputs([allow("*")], "PolicyInputList.")
    boundary = named_inputs([allow("ssm:Get*")], "PermissionsBoundaryPolicyInputList.")[0]
    results = simulate(SimulationInput(["ssm:GetParameter", "ssm:PutParameter"], ["*"], {}, identity, boundary))
    assert [r.decision.effect for r in results] == [Effect.ALLOWED, Effect.IMPLICIT_DENY]


def test_the_simulator_reports_context_keys_the_policies_wanted(iam: Iam) -> None:
    identity = named_inputs([allow("ssm:PutParameter", "*", Condition={
        "StringEquals": {"aws:RequestTag/env": "prod"}})], "PolicyInputList.")
    missing = simulate(SimulationInput(["ssm:PutParameter"], ["*"], {}, identity))[0]
    given = simulate(SimulationInput(["ssm:PutParameter"], ["*"], {"aws:RequestTag/env": ("prod",)}, identity))[0]
    assert missing.decision.effect is Effect.IMPLICIT_DENY
    assert missing.decision.missing_context_keys == ("aws:RequestTag/env",)
    assert given.decision.effect is Effect.ALLOWED


def test_a_principals_policies_include_its_groups_and_its_boundary(iam: Iam) -> None:
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now(),
                                boundary_arn="arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")
        bindings.put_inline(conn, bob, "own", allow("ssm:PutParameter"))
        devs = groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        bindings.attach(conn, devs, "arn:aws:iam::aws:policy/AmazonSSMFullAccess")
        users.add_to_group(conn, ACCOUNT, "devs", "bob")
        identity, boundary = principal_policies(conn, bob.arn)
    assert [name for name, _ in identity] == ["own", "arn:aws:iam::aws:policy/AmazonSSMFullAccess"]
    assert boundary is not None and boundary[0] == "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"
    results = simulate(SimulationInput(["ssm:GetParameter", "ssm:PutParameter"], ["*"], {}, identity, boundary))
    assert [r.decision.effect for r in results] == [Effect.ALLOWED, Effect.IMPLICIT_DENY]


def test_simulating_an_unknown_principal_is_invalid_input(iam: Iam) -> None:
    with iam.read() as conn, pytest.raises(InvalidInput, match="Invalid Entity Arn"):
        principal_policies(conn, f"arn:aws:iam::{ACCOUNT}:user/nobody")


def test_account_details_gather_every_entity_with_its_policies(iam: Iam) -> None:
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now(), user_tags={"k": "v"})
        bindings.put_inline(conn, bob, "own", allow("ssm:GetParameter"))
        groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        users.add_to_group(conn, ACCOUNT, "devs", "bob")
        role = create_role(conn, ACCOUNT, NewRole("node", TRUST), iam.clock.now())
        bindings.attach(conn, role, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
        instance_profiles.create_profile(conn, ACCOUNT, "node", "/", iam.clock.now())
        instance_profiles.add_role(conn, ACCOUNT, "node", "node")
        local = managed_policies.create_policy(conn, ACCOUNT, "local", "/", allow("ssm:*"), None, iam.clock.now())
        details = account_details(conn, ACCOUNT)
        only_roles = account_details(conn, ACCOUNT, [DetailFilter.ROLE])
    user = details.users[0]
    assert (user.entity.name, user.inline, user.groups, user.tags) == ("bob", {"own": allow("ssm:GetParameter")},
                                                                       ["devs"], {"k": "v"})
    assert [g.entity.name for g in details.groups] == ["devs"]
    node = details.roles[0]
    assert node.attached == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    assert [p.name for p in node.profiles] == ["node"]
    # The account's own policies and the AWS managed ones it uses, each with its versions.
    assert {p.policy.arn for p in details.policies} == {
        local.arn, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    assert all(p.versions and any(v.is_default for v in p.versions) for p in details.policies)
    assert (only_roles.users, only_roles.groups, only_roles.policies) == ([], [], [])
    assert parse_policy(details.policies[0].versions[0].document, PolicyKind.IDENTITY)
