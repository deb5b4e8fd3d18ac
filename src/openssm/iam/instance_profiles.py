"""Instance profiles: the container that hands one role to EC2 instances (and to managed nodes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Connection

from openssm.iam import entities, tags
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from openssm.iam.memberships import PROFILE_ROLES

PROFILE = EntityKind.INSTANCE_PROFILE
ROLE = EntityKind.ROLE
MAX_ROLES_PER_PROFILE = 1


def create_profile(conn: Connection, account_id: str, name: str, path: str, now: dt.datetime,
                   profile_tags: Mapping[str, str] | None = None) -> Entity:
    profile = entities.create(conn, account_id, PROFILE, name, path, now)
    if profile_tags:
        tags.tag(conn, account_id, PROFILE.value, profile.name, profile_tags)
    return profile


def roles_of(conn: Connection, profile: Entity) -> list[Entity]:
    names = PROFILE_ROLES.children(conn, profile.account_id, profile.name)
    found = [entities.find(conn, profile.account_id, ROLE, n) for n in names]
    return [r for r in found if r is not None]


def profiles_for_role(conn: Connection, account_id: str, role_name: str) -> list[Entity]:
    role = entities.get(conn, account_id, ROLE, role_name)
    found = [entities.find(conn, account_id, PROFILE, n) for n in PROFILE_ROLES.parents(conn, account_id, role.name)]
    return sorted((p for p in found if p is not None), key=lambda p: p.name.lower())


def delete_profile(conn: Connection, account_id: str, name: str) -> None:
    profile = entities.get(conn, account_id, PROFILE, name)
    if roles_of(conn, profile):
        raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
    tags.drop(conn, account_id, PROFILE.value, profile.name)
    entities.remove(conn, profile)


def add_role(conn: Connection, account_id: str, profile_name: str, role_name: str) -> None:
    profile = entities.get(conn, account_id, PROFILE, profile_name)
    role = entities.get(conn, account_id, ROLE, role_name)
    if len(roles_of(conn, profile)) >= MAX_ROLES_PER_PROFILE:
        raise LimitExceeded(f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {MAX_ROLES_PER_PROFILE}")
    PROFILE_ROLES.link(conn, account_id, profile.name, role.name)


def remove_role(conn: Connection, account_id: str, profile_name: str, role_name: str) -> None:
    profile = entities.get(conn, account_id, PROFILE, profile_name)
    role = entities.get(conn, account_id, ROLE, role_name)
    if not PROFILE_ROLES.unlink(conn, account_id, profile.name, role.name):
        raise NoSuchEntity(f"The role with name {role.name} cannot be found in instance profile {profile.name}.")
