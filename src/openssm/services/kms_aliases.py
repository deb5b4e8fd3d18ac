"""KMS aliases: friendly names for keys, per account and region, with KMS's naming rules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, bindparam, delete, insert, select

from openssm.services.kms_model import Alias, AlreadyExists, Key, NotFound, alias_arn, check_alias_name
from openssm.store.tables.kms import kms_aliases

_TARGET = select(kms_aliases.c.key_id).where(
    kms_aliases.c.account_id == bindparam("account"), kms_aliases.c.region == bindparam("region"),
    kms_aliases.c.alias_name == bindparam("alias"))


def not_found(account_id: str, region: str, alias: str) -> NotFound:
    return NotFound(f"Alias {alias_arn(region, account_id, alias)} is not found.")


def target_of(conn: Connection, account_id: str, region: str, alias: str) -> str | None:
    """The key id an alias points at, or None."""
    row = conn.execute(_TARGET, {"account": account_id, "region": region, "alias": alias}).first()
    return None if row is None else str(row[0])


def create_alias(conn: Connection, alias: str, key: Key, now: dt.datetime, *, managed: bool = False) -> None:
    """Point a new alias at `key`; only AWS itself (`managed`) may use the alias/aws/ names."""
    if not managed:
        check_alias_name(alias)
    if target_of(conn, key.account_id, key.region, alias) is not None:
        raise AlreadyExists(f"An alias with the name {alias_arn(key.region, key.account_id, alias)} already exists")
    conn.execute(insert(kms_aliases).values(account_id=key.account_id, region=key.region, alias_name=alias,
                                            key_id=key.key_id, created_at=now))


def delete_alias(conn: Connection, account_id: str, region: str, alias: str) -> None:
    check_alias_name(alias)
    gone = conn.execute(delete(kms_aliases).where(
        kms_aliases.c.account_id == account_id, kms_aliases.c.region == region,
        kms_aliases.c.alias_name == alias)).rowcount
    if not gone:
        raise not_found(account_id, region, alias)


def list_aliases(conn: Connection, account_id: str, region: str, key_id: str | None = None) -> list[Alias]:
    """The account's aliases in the region, by name; only those of `key_id` when given."""
    query = select(kms_aliases).where(kms_aliases.c.account_id == account_id, kms_aliases.c.region == region)
    if key_id is not None:
        query = query.where(kms_aliases.c.key_id == key_id)
    rows = conn.execute(query.order_by(kms_aliases.c.alias_name))
    return [Alias(r.alias_name, alias_arn(region, account_id, r.alias_name), r.key_id, r.created_at) for r in rows]
