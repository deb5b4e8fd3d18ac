"""AWS Organizations: one organization per management account, a tree of OUs, member accounts, and
service control policies that every level from the root down must allow (never for the management account)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from openssm.errors import AwsError
from openssm.iam.policy import MalformedPolicyDocument, NamedPolicy, PolicyKind, parse_policy
from openssm.store.tables.organizations import (
    org_accounts,
    org_attachments,
    org_organizations,
    org_policies,
    org_units,
)

FULL_ACCESS_ID = "p-FullAWSAccess"
FULL_ACCESS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
SCP = "SERVICE_CONTROL_POLICY"
_ALNUM = string.ascii_lowercase + string.digits


def _code(name: str, message: str) -> type[AwsError]:
    return type(name, (AwsError,), {"code": name, "default_message": message})


NotInUse = _code("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
AlreadyInOrganization = _code("AlreadyInOrganizationException",
                              "The provided account is already a member of an organization.")
OrgAccessDenied = _code("AccessDeniedException", "You don't have permissions to access this resource.")
TargetNotFound = _code("TargetNotFoundException", "You specified a target that doesn't exist.")
PolicyNotFound = _code("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
DuplicateAttachment = _code("DuplicatePolicyAttachmentException",
                            "A policy with the same type is already attached to the target you specified.")
NotAttached = _code("PolicyNotAttachedException", "Unable to find the policy attachment for the specified target.")
OuNotFound = _code("OrganizationalUnitNotFoundException", "You specified an organizational unit that doesn't exist.")
ParentNotFound = _code("ParentNotFoundException", "You specified parent that doesn't exist.")
ChildNotFound = _code("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the "
                                                "ChildId that you specified.")
OuNotEmpty = _code("OrganizationalUnitNotEmptyException", "The specified organizational unit is not empty.")
AccountNotFound = _code("AccountNotFoundException", "You specified an account that doesn't exist.")
DuplicateOu = _code("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
DuplicatePolicy = _code("DuplicatePolicyException", "A policy with the same name already exists.")
TypeNotEnabled = _code("PolicyTypeNotEnabledException",
                       "This operation can be performed only for enabled policy types.")
TypeAlreadyEnabled = _code("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
NotEmpty = _code("OrganizationNotEmptyException", "To delete an organization you must first remove all member "
                                                  "accounts (except the master).")
PolicyInUse = _code("PolicyInUseException", "The policy is attached to one or more entities. You must detach it from "
                                            "all roots, OUs, and accounts before performing this operation.")
ConstraintViolation = _code("ConstraintViolationException", "You can't detach the last service control policy from "
                                                            "a target: each root, OU and account needs at least one.")
MalformedScp = _code("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements "
                                                         "of the specified policy type.")


def fail(error: type[AwsError]) -> AwsError:
    return error(getattr(error, "default_message", ""))


def _rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


@dataclass(frozen=True)
class Organization:
    org_id: str
    management_account: str
    feature_set: str
    root_id: str
    scp_enabled: bool

    def arn(self, kind: str, *parts: str) -> str:
        return "/".join([f"arn:aws:organizations::{self.management_account}:{kind}", self.org_id, *parts])


@dataclass(frozen=True)
class OrgPolicy:
    policy_id: str
    name: str
    description: str
    content: str
    aws_managed: bool


def _org_from(row: object) -> Organization:
    m = row._mapping  # type: ignore[attr-defined]
    return Organization(m["org_id"], m["management_account"], m["feature_set"], m["root_id"], m["scp_enabled"])


def organization_of(conn: Connection, account_id: str) -> Organization | None:
    row = conn.execute(select(org_organizations).where(org_organizations.c.management_account == account_id)).first()
    if row is None:
        member = conn.execute(select(org_accounts.c.org_id).where(org_accounts.c.account_id == account_id)).first()
        if member is None:
            return None
        row = conn.execute(select(org_organizations).where(org_organizations.c.org_id == member[0])).first()
    return _org_from(row) if row else None


def require_org(conn: Connection, account_id: str, management_only: bool = True) -> Organization:
    org = organization_of(conn, account_id)
    if org is None:
        raise fail(NotInUse)
    if management_only and org.management_account != account_id:
        raise fail(OrgAccessDenied)
    return org


def create_organization(conn: Connection, account_id: str, feature_set: str, now: dt.datetime) -> Organization:
    if organization_of(conn, account_id) is not None:
        raise fail(AlreadyInOrganization)
    org_id, root_id = f"o-{_rand(10)}", f"r-{_rand(4)}"
    conn.execute(insert(org_organizations).values(org_id=org_id, management_account=account_id, feature_set=feature_set,
                                                  root_id=root_id, scp_enabled=False, created_at=now))
    conn.execute(insert(org_units).values(unit_id=root_id, org_id=org_id, parent_id=None, name="Root"))
    conn.execute(insert(org_accounts).values(account_id=account_id, org_id=org_id, parent_id=root_id,
                                             joined_method="CREATED", joined_at=now))
    conn.execute(insert(org_policies).values(policy_id=FULL_ACCESS_ID, org_id=org_id, name="FullAWSAccess",
                                             description="Allows access to every operation", type=SCP,
                                             content=FULL_ACCESS, aws_managed=True))
    return require_org(conn, account_id)


def delete_organization(conn: Connection, org: Organization) -> None:
    members = conn.execute(select(org_accounts.c.account_id).where(org_accounts.c.org_id == org.org_id)).all()
    if len(members) > 1:
        raise fail(NotEmpty)
    conn.execute(delete(org_attachments).where(org_attachments.c.policy_id.startswith(f"{org.org_id}/")))
    for table in (org_policies, org_accounts, org_units, org_organizations):
        conn.execute(delete(table).where(table.c.org_id == org.org_id))


# -- the tree -------------------------------------------------------------------------------------
def parent_of(conn: Connection, org: Organization, child_id: str) -> str:
    row = conn.execute(select(org_accounts.c.parent_id).where(org_accounts.c.account_id == child_id,
                                                              org_accounts.c.org_id == org.org_id)).first()
    if row is None:
        row = conn.execute(select(org_units.c.parent_id).where(org_units.c.unit_id == child_id,
                                                               org_units.c.org_id == org.org_id)).first()
    if row is None or row[0] is None:
        raise fail(ChildNotFound)
    return str(row[0])


def unit_exists(conn: Connection, org: Organization, unit_id: str) -> bool:
    return conn.execute(select(org_units.c.unit_id).where(org_units.c.unit_id == unit_id,
                                                          org_units.c.org_id == org.org_id)).first() is not None


def units_under(conn: Connection, org: Organization, parent_id: str) -> list[tuple[str, str]]:
    rows = conn.execute(select(org_units.c.unit_id, org_units.c.name).where(
        org_units.c.org_id == org.org_id, org_units.c.parent_id == parent_id).order_by(org_units.c.name))
    return [(r[0], r[1]) for r in rows]


def accounts_under(conn: Connection, org: Organization, parent_id: str | None = None) -> list[str]:
    query = select(org_accounts.c.account_id).where(org_accounts.c.org_id == org.org_id)
    if parent_id is not None:
        query = query.where(org_accounts.c.parent_id == parent_id)
    return [r[0] for r in conn.execute(query.order_by(org_accounts.c.joined_at))]


def create_ou(conn: Connection, org: Organization, parent_id: str, name: str) -> str:
    if not unit_exists(conn, org, parent_id):
        raise fail(ParentNotFound)
    if any(n == name for _, n in units_under(conn, org, parent_id)):
        raise fail(DuplicateOu)
    unit_id = f"ou-{org.root_id[2:]}-{_rand(8)}"
    conn.execute(insert(org_units).values(unit_id=unit_id, org_id=org.org_id, parent_id=parent_id, name=name))
    if org.scp_enabled:
        attach(conn, org, FULL_ACCESS_ID, unit_id)
    return unit_id


def ou_name(conn: Connection, org: Organization, unit_id: str) -> str:
    row = conn.execute(select(org_units.c.name).where(org_units.c.unit_id == unit_id, org_units.c.org_id == org.org_id,
                                                      org_units.c.parent_id.is_not(None))).first()
    if row is None:
        raise fail(OuNotFound)
    return str(row[0])


def rename_ou(conn: Connection, org: Organization, unit_id: str, name: str) -> None:
    ou_name(conn, org, unit_id)
    conn.execute(update(org_units).where(org_units.c.unit_id == unit_id).values(name=name))


def delete_ou(conn: Connection, org: Organization, unit_id: str) -> None:
    ou_name(conn, org, unit_id)
    if units_under(conn, org, unit_id) or accounts_under(conn, org, unit_id):
        raise fail(OuNotEmpty)
    conn.execute(delete(org_attachments).where(org_attachments.c.target_id == unit_id))
    conn.execute(delete(org_units).where(org_units.c.unit_id == unit_id))


def add_account(conn: Connection, org: Organization, account_id: str, now: dt.datetime) -> None:
    conn.execute(insert(org_accounts).values(account_id=account_id, org_id=org.org_id, parent_id=org.root_id,
                                             joined_method="CREATED", joined_at=now))
    if org.scp_enabled:
        attach(conn, org, FULL_ACCESS_ID, account_id)


def move_account(conn: Connection, org: Organization, account_id: str, source: str, destination: str) -> None:
    if account_id not in accounts_under(conn, org):
        raise fail(AccountNotFound)
    if not unit_exists(conn, org, destination) or not unit_exists(conn, org, source):
        raise fail(ParentNotFound)
    if parent_of(conn, org, account_id) != source:
        raise _code("SourceParentNotFoundException", "")(
            "You specified a source parent ID that doesn't exist or that isn't the account's parent.")
    conn.execute(update(org_accounts).where(org_accounts.c.account_id == account_id).values(parent_id=destination))


# -- policies -------------------------------------------------------------------------------------
def _policy_from(row: object) -> OrgPolicy:
    m = row._mapping  # type: ignore[attr-defined]
    return OrgPolicy(m["policy_id"], m["name"], m["description"], m["content"], m["aws_managed"])


def validate_scp(content: str) -> None:
    try:
        parse_policy(content, PolicyKind.SCP)
    except MalformedPolicyDocument as err:
        raise fail(MalformedScp) from err


def create_policy(conn: Connection, org: Organization, name: str, description: str, content: str) -> OrgPolicy:
    validate_scp(content)
    if conn.execute(select(org_policies.c.policy_id).where(org_policies.c.org_id == org.org_id,
                                                           org_policies.c.name == name)).first():
        raise fail(DuplicatePolicy)
    policy_id = f"p-{_rand(8)}"
    conn.execute(insert(org_policies).values(policy_id=policy_id, org_id=org.org_id, name=name, description=description,
                                             type=SCP, content=content, aws_managed=False))
    return get_policy(conn, org, policy_id)


def get_policy(conn: Connection, org: Organization, policy_id: str) -> OrgPolicy:
    row = conn.execute(select(org_policies).where(org_policies.c.org_id == org.org_id,
                                                  org_policies.c.policy_id == policy_id)).first()
    if row is None:
        raise fail(PolicyNotFound)
    return _policy_from(row)


def list_policies(conn: Connection, org: Organization) -> list[OrgPolicy]:
    rows = conn.execute(select(org_policies).where(org_policies.c.org_id == org.org_id).order_by(org_policies.c.name))
    return [_policy_from(r) for r in rows]


def update_policy(conn: Connection, org: Organization, policy_id: str, name: str | None, description: str | None,
                  content: str | None) -> OrgPolicy:
    policy = get_policy(conn, org, policy_id)
    if policy.aws_managed:
        raise fail(OrgAccessDenied)
    if content is not None:
        validate_scp(content)
    changes = {k: v for k, v in (("name", name), ("description", description), ("content", content)) if v is not None}
    if changes:
        conn.execute(update(org_policies).where(org_policies.c.org_id == org.org_id,
                                                org_policies.c.policy_id == policy_id).values(**changes))
    return get_policy(conn, org, policy_id)


def delete_policy(conn: Connection, org: Organization, policy_id: str) -> None:
    policy = get_policy(conn, org, policy_id)
    if policy.aws_managed:
        raise fail(OrgAccessDenied)
    if targets_of(conn, org, policy_id):
        raise fail(PolicyInUse)
    conn.execute(delete(org_policies).where(org_policies.c.org_id == org.org_id, org_policies.c.policy_id == policy_id))


def _attachment_key(org: Organization, policy_id: str) -> str:
    return f"{org.org_id}/{policy_id}"


def _target_exists(conn: Connection, org: Organization, target_id: str) -> bool:
    return unit_exists(conn, org, target_id) or target_id in accounts_under(conn, org)


def attach(conn: Connection, org: Organization, policy_id: str, target_id: str) -> None:
    get_policy(conn, org, policy_id)
    if not _target_exists(conn, org, target_id):
        raise fail(TargetNotFound)
    key = _attachment_key(org, policy_id)
    if conn.execute(select(org_attachments).where(org_attachments.c.policy_id == key,
                                                  org_attachments.c.target_id == target_id)).first():
        raise fail(DuplicateAttachment)
    conn.execute(insert(org_attachments).values(policy_id=key, target_id=target_id))


def detach(conn: Connection, org: Organization, policy_id: str, target_id: str) -> None:
    get_policy(conn, org, policy_id)
    key = _attachment_key(org, policy_id)
    if not conn.execute(select(org_attachments).where(org_attachments.c.policy_id == key,
                                                      org_attachments.c.target_id == target_id)).first():
        raise fail(NotAttached)
    if len(policies_for(conn, org, target_id)) == 1:
        raise fail(ConstraintViolation)
    conn.execute(delete(org_attachments).where(org_attachments.c.policy_id == key,
                                               org_attachments.c.target_id == target_id))


def policies_for(conn: Connection, org: Organization, target_id: str) -> list[OrgPolicy]:
    prefix = f"{org.org_id}/"
    rows = conn.execute(select(org_attachments.c.policy_id).where(org_attachments.c.target_id == target_id,
                                                                  org_attachments.c.policy_id.startswith(prefix)))
    return [get_policy(conn, org, r[0].removeprefix(prefix)) for r in rows]


def targets_of(conn: Connection, org: Organization, policy_id: str) -> list[str]:
    rows = conn.execute(select(org_attachments.c.target_id).where(
        org_attachments.c.policy_id == _attachment_key(org, policy_id)))
    return [r[0] for r in rows]


def enable_scps(conn: Connection, org: Organization) -> None:
    if org.scp_enabled:
        raise fail(TypeAlreadyEnabled)
    conn.execute(update(org_organizations).where(org_organizations.c.org_id == org.org_id).values(scp_enabled=True))
    org = require_org(conn, org.management_account)
    units = [r[0] for r in conn.execute(select(org_units.c.unit_id).where(org_units.c.org_id == org.org_id))]
    for target in units + accounts_under(conn, org):
        if FULL_ACCESS_ID not in {p.policy_id for p in policies_for(conn, org, target)}:
            attach(conn, org, FULL_ACCESS_ID, target)


def disable_scps(conn: Connection, org: Organization) -> None:
    if not org.scp_enabled:
        raise fail(TypeNotEnabled)
    conn.execute(update(org_organizations).where(org_organizations.c.org_id == org.org_id).values(scp_enabled=False))
    conn.execute(delete(org_attachments).where(org_attachments.c.policy_id.startswith(f"{org.org_id}/")))


def scp_levels(conn: Connection, account_id: str) -> Sequence[Sequence[NamedPolicy]]:
    """SCPs per level from the root down to the account; none for the management account or outsiders."""
    org = organization_of(conn, account_id)
    if org is None or not org.scp_enabled or org.management_account == account_id:
        return ()
    chain = [account_id]
    node = parent_of(conn, org, account_id)
    while True:
        chain.append(node)
        if node == org.root_id:
            break
        node = parent_of(conn, org, node)
    return [[(p.policy_id, parse_policy(p.content, PolicyKind.SCP)) for p in policies_for(conn, org, target)]
            for target in reversed(chain)]
