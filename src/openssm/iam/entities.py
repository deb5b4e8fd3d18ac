"""Users, groups, roles and instance profiles: named, pathed IAM entities sharing one lifecycle."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, delete, insert, select, update

from openssm.iam.errors import EntityAlreadyExists, InvalidInput, NoSuchEntity
from openssm.iam.ids import IdPrefix, unique_id
from openssm.store.tables.iam import iam_entities
from openssm.types import AccountId, Arn


class EntityKind(StrEnum):
    USER = "user"
    GROUP = "group"
    ROLE = "role"
    INSTANCE_PROFILE = "instance-profile"

    @property
    def label(self) -> str:
        """How IAM's messages name the kind: 'The user with name …', 'Instance Profile …'."""
        return {"instance-profile": "Instance Profile"}.get(self.value, self.value)


_PREFIX = {EntityKind.USER: IdPrefix.USER, EntityKind.GROUP: IdPrefix.GROUP, EntityKind.ROLE: IdPrefix.ROLE,
           EntityKind.INSTANCE_PROFILE: IdPrefix.INSTANCE_PROFILE}
_PATH = re.compile(r"^/([\x21-\x7e]*/)?$")


@dataclass(frozen=True)
class Entity:
    account_id: AccountId
    kind: EntityKind
    name: str
    path: str
    entity_id: str
    arn: Arn
    created_at: dt.datetime
    description: str | None = None
    boundary_arn: str | None = None
    trust_policy: str | None = None
    max_session_duration: int | None = None


def entity_arn(account_id: str, kind: EntityKind, path: str, name: str) -> Arn:
    return Arn(f"arn:aws:iam::{account_id}:{kind.value}{path}{name}")


def _from_row(row: object) -> Entity:
    r = row._mapping  # type: ignore[attr-defined]
    return Entity(AccountId(r["account_id"]), EntityKind(r["kind"]), r["name"], r["path"], r["entity_id"],
                  Arn(r["arn"]), r["created_at"], r["description"], r["boundary_arn"], r["trust_policy"],
                  r["max_session_duration"])


def not_found(kind: EntityKind, name: str) -> NoSuchEntity:
    if kind is EntityKind.INSTANCE_PROFILE:
        return NoSuchEntity(f"Instance Profile {name} cannot be found.")
    return NoSuchEntity(f"The {kind.label} with name {name} cannot be found.")


def find(conn: Connection, account_id: str, kind: EntityKind, name: str) -> Entity | None:
    row = conn.execute(select(iam_entities).where(
        iam_entities.c.account_id == account_id, iam_entities.c.kind == kind.value,
        iam_entities.c.name_lower == name.lower())).first()
    return _from_row(row) if row else None


def get(conn: Connection, account_id: str, kind: EntityKind, name: str) -> Entity:
    entity = find(conn, account_id, kind, name)
    if entity is None:
        raise not_found(kind, name)
    return entity


def find_by_arn(conn: Connection, arn: str) -> Entity | None:
    row = conn.execute(select(iam_entities).where(iam_entities.c.arn == arn)).first()
    return _from_row(row) if row else None


def already_exists(kind: EntityKind, name: str) -> EntityAlreadyExists:
    if kind is EntityKind.INSTANCE_PROFILE:
        return EntityAlreadyExists(f"Instance Profile {name} already exists.")
    return EntityAlreadyExists(f"{kind.label.capitalize()} with name {name} already exists.")


def check_path(path: str) -> None:
    if not _PATH.match(path):
        raise InvalidInput("The specified value for path is invalid. It must begin and end with / and contain "
                           "only alphanumeric characters and/or / characters.")


def create(conn: Connection, account_id: str, kind: EntityKind, name: str, path: str, now: dt.datetime,
           **extra: str | int | None) -> Entity:
    path = path or "/"
    check_path(path)
    if find(conn, account_id, kind, name) is not None:
        raise already_exists(kind, name)
    values = dict(account_id=account_id, kind=kind.value, name_lower=name.lower(), name=name, path=path,
                  entity_id=unique_id(_PREFIX[kind]), arn=entity_arn(account_id, kind, path, name),
                  created_at=now, **extra)
    conn.execute(insert(iam_entities).values(**values))
    return get(conn, account_id, kind, name)


def list_entities(conn: Connection, account_id: str, kind: EntityKind, path_prefix: str = "/") -> list[Entity]:
    rows = conn.execute(select(iam_entities).where(
        iam_entities.c.account_id == account_id, iam_entities.c.kind == kind.value,
        iam_entities.c.path.startswith(path_prefix, autoescape=True)).order_by(iam_entities.c.name_lower))
    return [_from_row(r) for r in rows]


def modify(conn: Connection, entity: Entity, **values: str | int | None) -> Entity:
    conn.execute(update(iam_entities).where(
        iam_entities.c.account_id == entity.account_id, iam_entities.c.kind == entity.kind.value,
        iam_entities.c.name_lower == entity.name.lower()).values(**values))
    return get(conn, entity.account_id, entity.kind, values.get("name", entity.name))  # type: ignore[arg-type]


def remove(conn: Connection, entity: Entity) -> None:
    conn.execute(delete(iam_entities).where(
        iam_entities.c.account_id == entity.account_id, iam_entities.c.kind == entity.kind.value,
        iam_entities.c.name_lower == entity.name.lower()))


def page(items: Sequence[object], marker: str | None, max_items: int | None) -> tuple[list[object], str | None]:
    """IAM's Marker/MaxItems pagination over an ordered list (marker = index of the next item)."""
    start = int(marker) if marker and marker.isdigit() else 0
    limit = max_items or 100
    chunk = list(items[start:start + limit])
    more = start + limit < len(items)
    return chunk, (str(start + limit) if more else None)
