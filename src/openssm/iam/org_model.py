"""The organization record: AWS's id and ARN formats, and finding the organization an account is in
(as its management account or as a member)."""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, select, update

from openssm.iam.organization_errors import NotInUse, not_management
from openssm.store.tables.organizations import org_accounts, org_organizations

SCP = "SERVICE_CONTROL_POLICY"
_ID_ALPHABET = string.ascii_lowercase + string.digits


class FeatureSet(StrEnum):
    ALL = "ALL"
    CONSOLIDATED_BILLING = "CONSOLIDATED_BILLING"


class TargetType(StrEnum):
    ROOT = "ROOT"
    ORGANIZATIONAL_UNIT = "ORGANIZATIONAL_UNIT"
    ACCOUNT = "ACCOUNT"


def random_id(length: int) -> str:
    """The lowercase alphanumeric tail of an Organizations id (o-…, r-…, ou-…-…, p-…)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Organization:
    org_id: str
    management_account: str
    feature_set: FeatureSet
    root_id: str
    scp_enabled: bool
    created_at: dt.datetime

    @property
    def arn(self) -> str:
        return f"arn:aws:organizations::{self.management_account}:organization/{self.org_id}"

    def _arn(self, kind: str, *parts: str) -> str:
        return "/".join([f"arn:aws:organizations::{self.management_account}:{kind}", self.org_id, *parts])

    def account_arn(self, account_id: str) -> str:
        return self._arn("account", account_id)

    def policy_arn(self, policy_id: str) -> str:
        return self._arn("policy", SCP.lower(), policy_id)

    def target_type(self, target_id: str) -> TargetType:
        if target_id == self.root_id:
            return TargetType.ROOT
        return TargetType.ORGANIZATIONAL_UNIT if target_id.startswith("ou-") else TargetType.ACCOUNT

    def target_arn(self, target_id: str) -> str:
        """The ARN of the root, an OU or a member account, from its id."""
        kind = {TargetType.ROOT: "root", TargetType.ORGANIZATIONAL_UNIT: "ou", TargetType.ACCOUNT: "account"}
        return self._arn(kind[self.target_type(target_id)], target_id)

    def is_management(self, account_id: str) -> bool:
        return account_id == self.management_account


def _from_row(row: object) -> Organization:
    m = row._mapping  # type: ignore[attr-defined]
    return Organization(m["org_id"], m["management_account"], FeatureSet(m["feature_set"]), m["root_id"],
                        m["scp_enabled"], m["created_at"])


def organization_of(conn: Connection, account_id: str) -> Organization | None:
    """The organization `account_id` manages or belongs to, if any."""
    member = conn.execute(select(org_accounts.c.org_id).where(org_accounts.c.account_id == account_id)).first()
    if member is None:
        return None
    row = conn.execute(select(org_organizations).where(org_organizations.c.org_id == member[0])).first()
    return _from_row(row) if row else None


def require_org(conn: Connection, account_id: str) -> Organization:
    """The caller's organization, for the few calls any member may make (DescribeOrganization)."""
    org = organization_of(conn, account_id)
    if org is None:
        raise NotInUse()
    return org


def require_management(conn: Connection, account_id: str) -> Organization:
    """The caller's organization when the caller is its management account; AWS refuses members."""
    org = require_org(conn, account_id)
    if not org.is_management(account_id):
        raise not_management()
    return org


def set_scp_enabled(conn: Connection, org: Organization, enabled: bool) -> Organization:
    conn.execute(update(org_organizations).where(org_organizations.c.org_id == org.org_id)
                 .values(scp_enabled=enabled))
    return require_org(conn, org.management_account)
