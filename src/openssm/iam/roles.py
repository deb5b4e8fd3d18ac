"""IAM roles: trust policy, description, session duration, boundary, and the rules for deleting one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection

from openssm.iam import bindings, entities, managed_policies, tags
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.errors import DeleteConflict, LimitExceeded
from openssm.iam.memberships import PROFILE_ROLES
from openssm.iam.policy import PolicyKind, parse_policy

ROLE = EntityKind.ROLE
DEFAULT_SESSION_SECONDS = 3600
MAX_TRUST_POLICY_SIZE = 2048  # IAM's default ACLSizePerRole quota, counted without white space


@dataclass(frozen=True)
class NewRole:
    name: str
    trust_policy: str
    path: str = "/"
    description: str | None = None
    max_session_duration: int = DEFAULT_SESSION_SECONDS
    boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def check_trust_policy(document: str) -> None:
    parse_policy(document, PolicyKind.TRUST)
    if len(re.sub(r"\s", "", document)) > MAX_TRUST_POLICY_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY_SIZE}")


def create_role(conn: Connection, account_id: str, spec: NewRole, now: dt.datetime) -> Entity:
    check_trust_policy(spec.trust_policy)
    if spec.boundary_arn:
        managed_policies.get_policy(conn, spec.boundary_arn)
    role = entities.create(conn, account_id, ROLE, spec.name, spec.path, now, trust_policy=spec.trust_policy,
                           description=spec.description, max_session_duration=spec.max_session_duration,
                           boundary_arn=spec.boundary_arn)
    if spec.tags:
        tags.tag(conn, account_id, ROLE.value, role.name, spec.tags)
    return role


def update_role(conn: Connection, account_id: str, name: str, description: str | None = None,
                max_session_duration: int | None = None) -> Entity:
    role = entities.get(conn, account_id, ROLE, name)
    changes = {k: v for k, v in (("description", description), ("max_session_duration", max_session_duration))
               if v is not None}
    return entities.modify(conn, role, **changes) if changes else role


def update_trust_policy(conn: Connection, account_id: str, name: str, document: str) -> Entity:
    check_trust_policy(document)
    return entities.modify(conn, entities.get(conn, account_id, ROLE, name), trust_policy=document)


def delete_role(conn: Connection, account_id: str, name: str) -> None:
    role = entities.get(conn, account_id, ROLE, name)
    if PROFILE_ROLES.parents(conn, account_id, role.name):
        raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
    bindings.refuse_delete_while_bound(conn, role)
    tags.drop(conn, account_id, ROLE.value, role.name)
    entities.remove(conn, role)
