"""Long-term access keys of IAM users: at most two per user, secrets sealed at rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from openssm.iam.entities import Entity
from openssm.iam.errors import LimitExceeded, NoSuchEntity
from openssm.iam.ids import access_key_id, secret_access_key
from openssm.store.secrets import SecretBox
from openssm.store.tables.iam import iam_access_keys

MAX_KEYS_PER_USER = 2


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    account_id: str
    user_lower: str
    active: bool
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None


@dataclass(frozen=True)
class StoredKey:
    key: AccessKey
    secret: str


def _from_row(r: object) -> AccessKey:
    m = r._mapping  # type: ignore[attr-defined]
    return AccessKey(m["access_key_id"], m["account_id"], m["user_lower"], m["active"], m["created_at"],
                     m["last_used_at"], m["last_used_service"], m["last_used_region"])


def create_key(conn: Connection, box: SecretBox, user: Entity, now: dt.datetime) -> tuple[AccessKey, str]:
    if len(keys_of(conn, user)) >= MAX_KEYS_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
    key_id, secret = access_key_id(), secret_access_key()
    conn.execute(insert(iam_access_keys).values(
        access_key_id=key_id, account_id=user.account_id, user_lower=user.name.lower(),
        secret_sealed=box.seal(secret.encode(), key_id.encode()), active=True, created_at=now))
    return AccessKey(key_id, user.account_id, user.name.lower(), True, now), secret


def keys_of(conn: Connection, user: Entity) -> list[AccessKey]:
    rows = conn.execute(select(iam_access_keys).where(iam_access_keys.c.account_id == user.account_id,
                                                      iam_access_keys.c.user_lower == user.name.lower())
                        .order_by(iam_access_keys.c.created_at))
    return [_from_row(r) for r in rows]


def _owned(conn: Connection, user: Entity, key_id: str) -> AccessKey:
    for key in keys_of(conn, user):
        if key.access_key_id == key_id:
            return key
    raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")


def set_status(conn: Connection, user: Entity, key_id: str, active: bool) -> None:
    _owned(conn, user, key_id)
    conn.execute(update(iam_access_keys).where(iam_access_keys.c.access_key_id == key_id).values(active=active))


def delete_key(conn: Connection, user: Entity, key_id: str) -> None:
    _owned(conn, user, key_id)
    conn.execute(delete(iam_access_keys).where(iam_access_keys.c.access_key_id == key_id))


def lookup(conn: Connection, box: SecretBox, key_id: str) -> StoredKey | None:
    row = conn.execute(select(iam_access_keys).where(iam_access_keys.c.access_key_id == key_id)).first()
    if row is None:
        return None
    secret = box.open(row.secret_sealed, key_id.encode()).decode()
    return StoredKey(_from_row(row), secret)


def find_key(conn: Connection, key_id: str) -> AccessKey | None:
    row = conn.execute(select(iam_access_keys).where(iam_access_keys.c.access_key_id == key_id)).first()
    return _from_row(row) if row else None


def record_use(conn: Connection, key_id: str, service: str, region: str, now: dt.datetime) -> None:
    conn.execute(update(iam_access_keys).where(iam_access_keys.c.access_key_id == key_id).values(
        last_used_at=now, last_used_service=service, last_used_region=region))
