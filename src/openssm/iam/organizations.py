"""AWS Organizations' compound operations: creating and deleting the organization, creating member
accounts (each a real account namespace with its OrganizationAccountAccessRole), OUs that start with the
default SCP, and `scp_levels`, which the authorizer asks on every policy-set load."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection, delete, insert, select

from openssm.iam import accounts, bindings, entities, org_tags, org_units
from openssm.iam import organization_errors as errors
from openssm.iam import service_control_policies as scps
from openssm.iam.entities import EntityKind
from openssm.iam.org_model import FeatureSet, Organization, organization_of, random_id, require_org
from openssm.iam.org_units import JoinedMethod, OrgUnit
from openssm.iam.policy import NamedPolicy, PolicyKind, parse_policy
from openssm.store.tables.organizations import org_create_status, org_organizations, org_policies

ACCESS_ROLE = "OrganizationAccountAccessRole"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


class CreateAccountState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class NewAccount:
    name: str
    email: str
    role_name: str = ACCESS_ROLE
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateAccountStatus:
    request_id: str
    account_name: str
    state: CreateAccountState
    requested_at: dt.datetime
    account_id: str | None
    failure_reason: str | None


def create_organization(conn: Connection, account_id: str, feature_set: FeatureSet, now: dt.datetime
                        ) -> Organization:
    """The caller's account becomes the management account of a new organization with one root."""
    if organization_of(conn, account_id) is not None:
        raise errors.AlreadyInOrganization()
    org_id, root_id = f"o-{random_id(10)}", f"r-{random_id(4)}"
    conn.execute(insert(org_organizations).values(org_id=org_id, management_account=account_id,
                                                  feature_set=feature_set.value, root_id=root_id, scp_enabled=False,
                                                  created_at=now))
    org_units.add_root(conn, org_id, root_id)
    org_units.add_member(conn, org_id, root_id, account_id, JoinedMethod.INVITED, now)
    return require_org(conn, account_id)


def delete_organization(conn: Connection, org: Organization) -> None:
    if len(org_units.members(conn, org)) > 1:
        raise errors.OrganizationNotEmpty()
    if org.scp_enabled:
        scps.disable(conn, org, org.root_id)
    org_tags.drop(conn, org)
    org_units.drop_tree(conn, org)
    for table in (org_policies, org_create_status, org_organizations):
        conn.execute(delete(table).where(table.c.org_id == org.org_id))


def _access_role(conn: Connection, org: Organization, account_id: str, role_name: str, now: dt.datetime) -> None:
    """The role AWS creates in every new member account: administrator, trusted by the management account."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org.management_account}:root"},
        "Action": "sts:AssumeRole"}]})
    role = entities.create(conn, account_id, EntityKind.ROLE, role_name, "/", now, trust_policy=trust,
                           max_session_duration=3600)
    bindings.attach(conn, role, ADMINISTRATOR_ACCESS)


def _email_taken(conn: Connection, email: str) -> bool:
    return any(a.email.lower() == email.lower() for a in accounts.list_accounts(conn))


def create_account(conn: Connection, org: Organization, new: NewAccount, now: dt.datetime) -> CreateAccountStatus:
    """CreateAccount, finished at once: AWS's asynchronous request is SUCCEEDED (or FAILED) when it returns."""
    request_id = f"car-{random_id(32)}"
    account_id: str | None = None
    failure: str | None = None
    if _email_taken(conn, new.email):
        failure = "EMAIL_ALREADY_EXISTS"
    else:
        account_id = accounts.create_account(conn, new.name, new.email, now).account_id
        org_units.add_member(conn, org.org_id, org.root_id, account_id, JoinedMethod.CREATED, now)
        scps.attach_default(conn, org, account_id)
        _access_role(conn, org, account_id, new.role_name, now)
        if new.tags:
            org_tags.tag(conn, org, account_id, new.tags)
    state = CreateAccountState.FAILED if failure else CreateAccountState.SUCCEEDED
    conn.execute(insert(org_create_status).values(request_id=request_id, org_id=org.org_id, account_id=account_id,
                                                  account_name=new.name, state=state.value, failure_reason=failure,
                                                  requested_at=now))
    return create_account_status(conn, org, request_id)


def _status_from(row: object) -> CreateAccountStatus:
    m = row._mapping  # type: ignore[attr-defined]
    return CreateAccountStatus(m["request_id"], m["account_name"], CreateAccountState(m["state"]), m["requested_at"],
                               m["account_id"], m["failure_reason"])


def create_account_status(conn: Connection, org: Organization, request_id: str) -> CreateAccountStatus:
    row = conn.execute(select(org_create_status).where(org_create_status.c.org_id == org.org_id,
                                                       org_create_status.c.request_id == request_id)).first()
    if row is None:
        raise errors.CreateAccountStatusNotFound()
    return _status_from(row)


def create_account_statuses(conn: Connection, org: Organization, states: Sequence[str] = ()
                            ) -> list[CreateAccountStatus]:
    query = select(org_create_status).where(org_create_status.c.org_id == org.org_id)
    if states:
        query = query.where(org_create_status.c.state.in_(list(states)))
    rows = conn.execute(query.order_by(org_create_status.c.requested_at, org_create_status.c.request_id))
    return [_status_from(r) for r in rows]


def remove_account(conn: Connection, org: Organization, account_id: str) -> None:
    """The account leaves the organization and stays a standalone account, its resources untouched."""
    if org.is_management(account_id):
        raise errors.MasterCannotLeave()
    if org_units.member(conn, org, account_id) is None:
        raise errors.AccountNotFound()
    scps.drop_target(conn, org, account_id)
    org_tags.drop(conn, org, account_id)
    org_units.remove_member(conn, org, account_id)


def create_ou(conn: Connection, org: Organization, parent_id: str, name: str,
              tags: Mapping[str, str] | None = None) -> OrgUnit:
    unit = org_units.create_ou(conn, org, parent_id, name)
    scps.attach_default(conn, org, unit.unit_id)
    if tags:
        org_tags.tag(conn, org, unit.unit_id, tags)
    return unit


def delete_ou(conn: Connection, org: Organization, unit_id: str) -> None:
    org_units.delete_ou(conn, org, unit_id)
    scps.drop_target(conn, org, unit_id)
    org_tags.drop(conn, org, unit_id)


def scp_levels(conn: Connection, account_id: str) -> Sequence[Sequence[NamedPolicy]]:
    """The SCPs (id, parsed document) attached at each level from the root down to `account_id`; empty when
    the account is in no organization, SCPs are not enabled, or it is the management account. A request is
    allowed only if every level allows it. Callers cache the result (the policy directory does)."""
    org = organization_of(conn, account_id)
    if org is None:
        return ()
    return [[(p.policy_id, parse_policy(p.content, PolicyKind.SCP)) for p in level]
            for level in scps.levels(conn, org, account_id)]
