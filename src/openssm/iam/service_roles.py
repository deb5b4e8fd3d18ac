"""Roles handed to a service (SSM's default EC2 instance management role, an activation's role): the role
must exist and its trust policy must let the service principal assume it."""

from __future__ import annotations

from sqlalchemy import Connection

from openssm.iam import entities
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.policy import PolicyKind, parse_policy
from openssm.iam.policy.evaluate import AuthzRequest, principal_match, statement_applies


def find_role(conn: Connection, account_id: str, name_or_path: str) -> Entity | None:
    """The role named `Name` or `path/Name` (AWS's service settings accept both), or None."""
    path, _, name = name_or_path.rpartition("/")
    role = entities.find(conn, account_id, EntityKind.ROLE, name)
    if role is None or (path and role.path != f"/{path.strip('/')}/"):
        return None
    return role


def trusts_service(role: Entity, service: str) -> bool:
    """Whether the role's trust policy allows `service` (e.g. ssm.amazonaws.com) sts:AssumeRole."""
    trust = parse_policy(role.trust_policy or "", PolicyKind.TRUST)
    request = AuthzRequest("sts:AssumeRole", role.arn, f"arn:aws:iam::{role.account_id}:root", role.account_id,
                           {}, service_principal=service)
    hits = [s for s in trust.statements if statement_applies(s, trust, request, set())]
    if any(s.effect == "Deny" and s.principals and principal_match(s.principals, request) for s in hits):
        return False
    return any(s.effect == "Allow" and s.principals and principal_match(s.principals, request) == "specific"
               for s in hits)
