"""IAM groups: creation, renaming, the rules for deleting one, and their members."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from openssm.iam import bindings, entities, renames
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.errors import DeleteConflict
from openssm.iam.memberships import GROUP_MEMBERS

GROUP = EntityKind.GROUP


def create_group(conn: Connection, account_id: str, name: str, path: str, now: dt.datetime) -> Entity:
    return entities.create(conn, account_id, GROUP, name, path, now)


def update_group(conn: Connection, account_id: str, name: str, new_name: str | None = None,
                 new_path: str | None = None) -> Entity:
    return renames.rename(conn, entities.get(conn, account_id, GROUP, name), new_name, new_path)


def delete_group(conn: Connection, account_id: str, name: str) -> None:
    group = entities.get(conn, account_id, GROUP, name)
    if GROUP_MEMBERS.children(conn, account_id, group.name):
        raise DeleteConflict("Cannot delete entity, must remove users from group first.")
    bindings.refuse_delete_while_bound(conn, group)
    entities.remove(conn, group)


def members(conn: Connection, group: Entity) -> list[Entity]:
    names = GROUP_MEMBERS.children(conn, group.account_id, group.name)
    found = [entities.find(conn, group.account_id, EntityKind.USER, n) for n in names]
    return sorted((u for u in found if u is not None), key=lambda u: u.name.lower())
