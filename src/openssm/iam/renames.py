"""Renaming and re-pathing users and groups (UpdateUser, UpdateGroup).

Rows about an entity are keyed by its lower-cased name, so a rename moves every row that names it:
tags, attached and inline policies, group memberships and (for users) access keys.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from openssm.iam import entities
from openssm.iam.entities import Entity, EntityKind
from openssm.store.tables.iam import (
    iam_access_keys,
    iam_attachments,
    iam_group_members,
    iam_inline_policies,
    iam_tags,
)


def _move_rows(conn: Connection, entity: Entity, new_lower: str) -> None:
    old_lower = entity.name.lower()
    for table in (iam_tags, iam_attachments, iam_inline_policies):
        conn.execute(update(table).where(
            table.c.account_id == entity.account_id, table.c.kind == entity.kind.value,
            table.c.name_lower == old_lower).values(name_lower=new_lower))
    member = iam_group_members.c.user_lower if entity.kind is EntityKind.USER else iam_group_members.c.group_lower
    conn.execute(update(iam_group_members).where(iam_group_members.c.account_id == entity.account_id,
                                                 member == old_lower).values({member.name: new_lower}))
    if entity.kind is EntityKind.USER:
        conn.execute(update(iam_access_keys).where(iam_access_keys.c.account_id == entity.account_id,
                                                   iam_access_keys.c.user_lower == old_lower)
                     .values(user_lower=new_lower))


def rename(conn: Connection, entity: Entity, new_name: str | None, new_path: str | None) -> Entity:
    """Give a user or group a new name and/or path; its id stays, its ARN follows."""
    name = new_name or entity.name
    path = new_path or entity.path
    entities.check_path(path)
    if name.lower() != entity.name.lower():
        if entities.find(conn, entity.account_id, entity.kind, name) is not None:
            raise entities.already_exists(entity.kind, name)
        _move_rows(conn, entity, name.lower())
    return entities.modify(conn, entity, name=name, name_lower=name.lower(), path=path,
                           arn=entities.entity_arn(entity.account_id, entity.kind, path, name))
