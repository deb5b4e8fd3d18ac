"""Organizations on the in-memory store: the organization and its tree, member accounts with their access
role, service control policies and how the authorizer applies them to members but never the management
account, and AWS's error cases."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection

from openssm.errors import AccessDenied
from openssm.iam import accounts, bindings, entities, org_tags, org_units, sts
from openssm.iam import organization_errors as errors
from openssm.iam import organizations as orgs
from openssm.iam import service_control_policies as scps
from openssm.iam.entities import EntityKind
from openssm.iam.org_model import FeatureSet, Organization, require_management, require_org
from openssm.iam.organizations import CreateAccountState, NewAccount, scp_levels
from openssm.iam.principals import Caller
from openssm.iam.sts import AssumeRoleRequest
from openssm.types import AccountId
from tests.unit.identity_world import ACCOUNT, OTHER_ACCOUNT, World, allow, policy

SEED_000_SCP = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Action": ["ssm:UpdateServiceSetting", "ssm:ResetServiceSetting"],
    "Resource": "arn:aws:ssm:*:*:servicesetting/ssm/managed-instance/default-ec2-instance-management-role",
    "Condition": {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/job-function": ["administrator"]}}}]})
DENY_CREATE_USER = policy({"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"})


@pytest.fixture
def world() -> World:
    return World()


@contextmanager
def write(world: World) -> Iterator[Connection]:
    with world.iam.write() as conn:
        yield conn


def new_org(world: World, account: str = ACCOUNT, feature_set: FeatureSet = FeatureSet.ALL,
            enable_scps: bool = True) -> Organization:
    with write(world) as conn:
        accounts.create_account(conn, f"mgmt-{account}", f"mgmt-{account}@example.com", world.clock.now(),
                                AccountId(account))
        org = orgs.create_organization(conn, account, feature_set, world.clock.now())
        return scps.enable(conn, org, org.root_id) if enable_scps else org


def new_member(world: World, org: Organization, name: str = "dev") -> str:
    with write(world) as conn:
        status = orgs.create_account(conn, org, NewAccount(name, f"{name}@example.com"), world.clock.now())
    assert status.state is CreateAccountState.SUCCEEDED and status.account_id is not None
    return str(status.account_id)


def member_admin(world: World, member: str, session_tags: tuple[tuple[str, str], ...] = ()) -> Caller:
    """A session in `member` through OrganizationAccountAccessRole, as a management-account user."""
    admin = world.user(f"admin-{uuid.uuid4().hex[:8]}", allow(["sts:AssumeRole", "sts:TagSession"]))
    req = AssumeRoleRequest(f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", "admin", tags=session_tags)
    with write(world) as conn:
        assumed = sts.assume_role(conn, world.box, world.authorizer, world.facts(admin), req)
    return world.session_caller(assumed.credentials.access_key_id)


def attach(world: World, org: Organization, content: str, target: str, name: str = "custom") -> str:
    with write(world) as conn:
        policy_id = scps.create_policy(conn, org, f"p-{name[:8]:0<8}", name, "", content).policy_id
        scps.attach(conn, org, policy_id, target)
    return str(policy_id)


def test_creating_an_organization_makes_the_caller_its_management_account(world: World) -> None:
    org = new_org(world, enable_scps=False)
    assert re.fullmatch(r"o-[a-z0-9]{10}", org.org_id) and re.fullmatch(r"r-[a-z0-9]{4}", org.root_id)
    assert org.management_account == ACCOUNT and not org.scp_enabled
    assert org.account_arn(ACCOUNT) == f"arn:aws:organizations::{ACCOUNT}:account/{org.org_id}/{ACCOUNT}"
    assert org.target_arn(org.root_id) == f"arn:aws:organizations::{ACCOUNT}:root/{org.org_id}/{org.root_id}"
    with write(world) as conn, pytest.raises(errors.AlreadyInOrganization):
        orgs.create_organization(conn, ACCOUNT, FeatureSet.ALL, world.clock.now())
    with world.db.read() as conn:
        assert [m.account_id for m in org_units.members(conn, org)] == [ACCOUNT]
        assert scps.list_policies(conn, org)[0].name == "FullAWSAccess"


def test_two_management_accounts_each_have_their_own_organization_and_full_aws_access(world: World) -> None:
    first, second = new_org(world, ACCOUNT), new_org(world, OTHER_ACCOUNT)
    assert first.org_id != second.org_id
    with world.db.read() as conn:
        assert [p.policy_id for p in scps.policies_for(conn, first, first.root_id)] == ["p-FullAWSAccess"]
        assert [p.policy_id for p in scps.policies_for(conn, second, second.root_id)] == ["p-FullAWSAccess"]
        assert scps.targets_of(conn, first, "p-FullAWSAccess") == [ACCOUNT, first.root_id]


def test_create_account_makes_a_real_account_with_an_administrator_role_the_management_account_trusts(
        world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    with world.db.read() as conn:
        account = accounts.get_account(conn, member)
        role = entities.find(conn, member, EntityKind.ROLE, "OrganizationAccountAccessRole")
        assert account is not None and account.email == "dev@example.com"
        assert role is not None and json.loads(role.trust_policy or "")["Statement"][0]["Principal"] == {
            "AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        assert bindings.attached(conn, role) == ["arn:aws:iam::aws:policy/AdministratorAccess"]
        assert org_units.parent_of(conn, org, member) == org.root_id
        assert [p.name for p in scps.policies_for(conn, org, member)] == ["FullAWSAccess"]
    session = member_admin(world, member)
    assert session.account_id == member
    assert world.allowed(session, "iam:CreateUser", f"arn:aws:iam::{member}:user/x")


def test_create_account_with_an_email_in_use_fails_as_a_request_state(world: World) -> None:
    org = new_org(world)
    new_member(world, org, "dup")
    with write(world) as conn:
        status = orgs.create_account(conn, org, NewAccount("again", "DUP@example.com"), world.clock.now())
    assert (status.state, status.failure_reason, status.account_id) == (
        CreateAccountState.FAILED, "EMAIL_ALREADY_EXISTS", None)
    with world.db.read() as conn:
        assert orgs.create_account_status(conn, org, status.request_id) == status
        assert [s.account_name for s in orgs.create_account_statuses(conn, org, ["SUCCEEDED"])] == ["dup"]
        with pytest.raises(errors.CreateAccountStatusNotFound):
            orgs.create_account_status(conn, org, "car-00000000")


def test_scp_levels_run_from_the_root_through_each_ou_to_the_account(world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    with write(world) as conn:
        outer = orgs.create_ou(conn, org, org.root_id, "outer")
        inner = orgs.create_ou(conn, org, outer.unit_id, "inner")
        org_units.move_account(conn, org, member, org.root_id, inner.unit_id)
        assert re.fullmatch(rf"ou-{org.root_id[2:]}-[a-z0-9]{{8}}", inner.unit_id)
    deny = attach(world, org, DENY_CREATE_USER, outer.unit_id)
    with world.db.read() as conn:
        levels = [[name for name, _ in level] for level in scp_levels(conn, member)]
        assert levels == [["p-FullAWSAccess"], ["p-FullAWSAccess", deny], ["p-FullAWSAccess"], ["p-FullAWSAccess"]]
        assert scp_levels(conn, ACCOUNT) == []  # the management account: SCPs never apply
        assert scp_levels(conn, "999999999999") == ()


def test_an_scp_deny_binds_a_member_administrator_until_detached_and_never_the_management_account(
        world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    session = member_admin(world, member)
    manager = world.user("manager", allow("*"))
    deny = attach(world, org, DENY_CREATE_USER, member)
    attach(world, org, DENY_CREATE_USER, org.root_id, name="rootdeny")
    assert not world.allowed(session, "iam:CreateUser", f"arn:aws:iam::{member}:user/x")
    assert world.allowed(session, "iam:ListUsers")
    assert world.allowed(manager, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x")
    with write(world) as conn:
        scps.detach(conn, org, deny, member)
        scps.detach(conn, org, scps.get_policy(conn, org, "p-rootdeny").policy_id, org.root_id)
    assert world.allowed(session, "iam:CreateUser", f"arn:aws:iam::{member}:user/x")


def test_every_level_must_allow_so_replacing_full_access_at_an_ou_narrows_its_accounts(world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    with write(world) as conn:
        unit = orgs.create_ou(conn, org, org.root_id, "ssm-only")
        org_units.move_account(conn, org, member, org.root_id, unit.unit_id)
    attach(world, org, allow("ssm:*"), unit.unit_id)
    with write(world) as conn:
        scps.detach(conn, org, "p-FullAWSAccess", unit.unit_id)
    session = member_admin(world, member)
    assert world.allowed(session, "ssm:PutParameter")
    assert not world.allowed(session, "iam:ListUsers")


def test_the_seed_000_scp_denies_the_service_setting_unless_the_session_is_tagged_administrator(
        world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    attach(world, org, SEED_000_SCP, org.root_id, name="dhmc")
    setting = f"arn:aws:ssm:us-east-1:{member}:servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
    assert not world.allowed(member_admin(world, member), "ssm:UpdateServiceSetting", setting)
    with write(world) as conn:  # let the management account tag its sessions (UpdateAssumeRolePolicy)
        role = entities.get(conn, member, EntityKind.ROLE, "OrganizationAccountAccessRole")
        entities.modify(conn, role, trust_policy=policy({"Effect": "Allow", "Principal": {
            "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}))
    tagged = member_admin(world, member, (("job-function", "Administrator"),))
    assert world.allowed(tagged, "ssm:UpdateServiceSetting", setting)
    assert world.allowed(member_admin(world, member), "ssm:UpdateServiceSetting",
                         f"arn:aws:ssm:us-east-1:{member}:servicesetting/other")


def test_attachment_rules_follow_aws(world: World) -> None:
    org = new_org(world)
    with write(world) as conn:
        with pytest.raises(errors.ConstraintViolation, match="fewer than the minimum number of policies"):
            scps.detach(conn, org, "p-FullAWSAccess", org.root_id)
        with pytest.raises(errors.DuplicateAttachment):
            scps.attach(conn, org, "p-FullAWSAccess", org.root_id)
        with pytest.raises(errors.TargetNotFound):
            scps.attach(conn, org, "p-FullAWSAccess", "ou-zzzz-zzzzzzzz")
        with pytest.raises(errors.PolicyNotFound):
            scps.attach(conn, org, "p-missing0", org.root_id)
        ids = [scps.create_policy(conn, org, f"p-limit00{i}", f"limit{i}", "", allow("*")).policy_id
               for i in range(5)]
        for policy_id in ids[:4]:
            scps.attach(conn, org, policy_id, org.root_id)
        with pytest.raises(errors.ConstraintViolation, match="number of policies of a certain type"):
            scps.attach(conn, org, ids[4], org.root_id)
        with pytest.raises(errors.NotAttached):
            scps.detach(conn, org, ids[4], org.root_id)
        with pytest.raises(errors.PolicyInUse):
            scps.delete_policy(conn, org, ids[0])


def test_policy_documents_and_names_are_checked(world: World) -> None:
    org = new_org(world)
    with write(world) as conn:
        with pytest.raises(errors.MalformedPolicy):
            scps.create_policy(conn, org, "p-bad00000", "bad", "", '{"Statement": 1}')
        with pytest.raises(errors.MalformedPolicy):  # SCPs name no principals
            scps.create_policy(conn, org, "p-bad00001", "bad", "", policy(
                {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}))
        with pytest.raises(errors.ConstraintViolation, match="larger than the maximum size"):
            scps.create_policy(conn, org, "p-big00000", "big", "", allow("ssm:GetParameter") + " " * 5200)
        scps.create_policy(conn, org, "p-good0000", "good", "", policy(
            {"Effect": "Deny", "NotAction": ["ssm:*"], "Resource": "*"}))
        with pytest.raises(errors.DuplicatePolicy):
            scps.create_policy(conn, org, "p-good0001", "good", "", allow("*"))
        with pytest.raises(errors.InvalidInput, match="managed by AWS"):
            scps.update_policy(conn, org, "p-FullAWSAccess", "renamed", None, None)
        updated = scps.update_policy(conn, org, "p-good0000", "better", "now described", None)
        assert (updated.name, updated.description) == ("better", "now described")


def test_ou_rules_follow_aws(world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    with write(world) as conn:
        unit = orgs.create_ou(conn, org, org.root_id, "team")
        with pytest.raises(errors.DuplicateOu):
            orgs.create_ou(conn, org, org.root_id, "team")
        with pytest.raises(errors.ParentNotFound):
            orgs.create_ou(conn, org, "ou-nope-nope0000", "x")
        parent = unit.unit_id
        for depth in range(2, 6):
            parent = orgs.create_ou(conn, org, parent, f"level{depth}").unit_id
        with pytest.raises(errors.ConstraintViolation, match="too many levels deep"):
            orgs.create_ou(conn, org, parent, "level6")
        org_units.move_account(conn, org, member, org.root_id, unit.unit_id)
        with pytest.raises(errors.OuNotEmpty):
            orgs.delete_ou(conn, org, unit.unit_id)
        assert org_units.rename_ou(conn, org, unit.unit_id, "renamed").name == "renamed"
        assert [m.account_id for m in org_units.members(conn, org, unit.unit_id)] == [member]


def test_move_account_checks_in_aws_order(world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    with write(world) as conn:
        unit = orgs.create_ou(conn, org, org.root_id, "dest")
        with pytest.raises(errors.AccountNotFound):
            org_units.move_account(conn, org, "999999999999", org.root_id, unit.unit_id)
        with pytest.raises(errors.SourceParentNotFound):
            org_units.move_account(conn, org, member, unit.unit_id, org.root_id)
        with pytest.raises(errors.DestinationParentNotFound):
            org_units.move_account(conn, org, member, org.root_id, "ou-xxxx-xxxxxxxx")
        with pytest.raises(errors.DuplicateAccount):
            org_units.move_account(conn, org, member, org.root_id, org.root_id)
        with pytest.raises(errors.ChildNotFound):
            org_units.parent_of(conn, org, "111122223333")


def test_members_may_describe_their_organization_but_not_manage_it(world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    with world.db.read() as conn:
        assert require_org(conn, member).org_id == org.org_id
        with pytest.raises(AccessDenied) as err:
            require_management(conn, member)
        assert (err.value.code, err.value.message) == (
            "AccessDeniedException", "You don't have permissions to access this resource.")
        with pytest.raises(errors.NotInUse, match="^Your account is not a member of an organization.$"):
            require_org(conn, "999999999999")


def test_policy_types_enable_and_disable_as_aws(world: World) -> None:
    billing = new_org(world, OTHER_ACCOUNT, FeatureSet.CONSOLIDATED_BILLING, enable_scps=False)
    org = new_org(world)
    member = new_member(world, org)
    attach(world, org, DENY_CREATE_USER, member)
    with write(world) as conn:
        with pytest.raises(errors.TypeNotAvailable):
            scps.enable(conn, billing, billing.root_id)
        with pytest.raises(errors.TypeAlreadyEnabled):
            scps.enable(conn, org, org.root_id)
        with pytest.raises(errors.RootNotFound):
            scps.disable(conn, org, "r-0000")
        disabled = scps.disable(conn, org, org.root_id)
        assert scp_levels(conn, member) == []
        with pytest.raises(errors.TypeNotEnabled):
            scps.attach(conn, disabled, "p-FullAWSAccess", member)
        enabled = scps.enable(conn, disabled, org.root_id)
        assert [p.policy_id for p in scps.policies_for(conn, enabled, member)] == ["p-FullAWSAccess"]


def test_deleting_an_organization_needs_its_members_gone_first(world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    attach(world, org, DENY_CREATE_USER, member)
    with write(world) as conn:
        with pytest.raises(errors.OrganizationNotEmpty):
            orgs.delete_organization(conn, org)
        with pytest.raises(errors.MasterCannotLeave):
            orgs.remove_account(conn, org, ACCOUNT)
        orgs.remove_account(conn, org, member)
        assert scp_levels(conn, member) == ()
        orgs.delete_organization(conn, org)
        assert orgs.organization_of(conn, ACCOUNT) is None
        again = orgs.create_organization(conn, member, FeatureSet.ALL, world.clock.now())
        assert again.management_account == member


def test_tags_on_organization_resources(world: World) -> None:
    org = new_org(world)
    member = new_member(world, org)
    with write(world) as conn:
        org_tags.tag(conn, org, member, {"env": "dev", "team": "blue"})
        org_tags.tag(conn, org, "p-FullAWSAccess", {"kind": "aws"})
        org_tags.untag(conn, org, member, ["team"])
        assert org_tags.tags_of(conn, org, member) == {"env": "dev"}
        assert org_tags.tags_of(conn, org, "p-FullAWSAccess") == {"kind": "aws"}
        with pytest.raises(errors.InvalidInput, match="system tag"):
            org_tags.tag(conn, org, member, {"aws:reserved": "x"})
        with pytest.raises(errors.TargetNotFound):
            org_tags.tag(conn, org, "ou-none-none0000", {"a": "b"})
