"""IAM users: creation, renaming, the rules for deleting one, and the groups they belong to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Connection

from openssm.iam import access_keys, bindings, entities, managed_policies, renames, tags
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.errors import DeleteConflict, NoSuchEntity
from openssm.iam.memberships import GROUP_MEMBERS

USER = EntityKind.USER
GROUP = EntityKind.GROUP


def create_user(conn: Connection, account_id: str, name: str, path: str, now: dt.datetime, *,
                boundary_arn: str | None = None, user_tags: Mapping[str, str] | None = None) -> Entity:
    if boundary_arn:
        managed_policies.get_policy(conn, boundary_arn)
    user = entities.create(conn, account_id, USER, name, path, now, boundary_arn=boundary_arn)
    if user_tags:
        tags.tag(conn, account_id, USER.value, user.name, user_tags)
    return user


def update_user(conn: Connection, account_id: str, name: str, new_name: str | None = None,
                new_path: str | None = None) -> Entity:
    return renames.rename(conn, entities.get(conn, account_id, USER, name), new_name, new_path)


def delete_user(conn: Connection, account_id: str, name: str) -> None:
    """Delete a user that owns nothing any more, in the order AWS checks (keys, groups, policies)."""
    user = entities.get(conn, account_id, USER, name)
    if access_keys.keys_of(conn, user):
        raise DeleteConflict("Cannot delete entity, must delete access keys first.")
    if GROUP_MEMBERS.parents(conn, account_id, user.name):
        raise DeleteConflict("Cannot delete entity, must remove user from all groups first.")
    bindings.refuse_delete_while_bound(conn, user)
    tags.drop(conn, account_id, USER.value, user.name)
    entities.remove(conn, user)


def groups_of(conn: Connection, user: Entity) -> list[Entity]:
    names = GROUP_MEMBERS.parents(conn, user.account_id, user.name)
    found = [entities.find(conn, user.account_id, GROUP, n) for n in names]
    return sorted((g for g in found if g is not None), key=lambda g: g.name.lower())


def add_to_group(conn: Connection, account_id: str, group_name: str, user_name: str) -> None:
    group = entities.get(conn, account_id, GROUP, group_name)
    user = entities.get(conn, account_id, USER, user_name)
    GROUP_MEMBERS.link(conn, account_id, group.name, user.name)


def remove_from_group(conn: Connection, account_id: str, group_name: str, user_name: str) -> None:
    group = entities.get(conn, account_id, GROUP, group_name)
    user = entities.get(conn, account_id, USER, user_name)
    if not GROUP_MEMBERS.unlink(conn, account_id, group.name, user.name):
        raise NoSuchEntity(f"The user with name {user.name} cannot be found in group {group.name}.")
