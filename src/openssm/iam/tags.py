"""Tags on IAM users, roles, policies and instance profiles (50 per resource, AWS's key rules)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import ColumnElement, Connection, delete, insert, select

from openssm.iam.errors import InvalidInput, LimitExceeded
from openssm.store.tables.iam import iam_tags

MAX_TAGS = 50


def _where(account_id: str, kind: str, name: str) -> tuple[ColumnElement[bool], ...]:
    return (iam_tags.c.account_id == account_id, iam_tags.c.kind == kind, iam_tags.c.name_lower == name.lower())


def tags_of(conn: Connection, account_id: str, kind: str, name: str) -> dict[str, str]:
    rows = conn.execute(select(iam_tags.c.key, iam_tags.c.value).where(*_where(account_id, kind, name))
                        .order_by(iam_tags.c.key))
    return {r.key: r.value for r in rows}


def tag(conn: Connection, account_id: str, kind: str, name: str, new: Mapping[str, str]) -> None:
    if len({k.lower() for k in new}) != len(new):
        raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    current = tags_of(conn, account_id, kind, name)
    lowered = {k.lower(): k for k in current}
    merged = dict(current)
    for key, value in new.items():
        merged.pop(lowered.get(key.lower(), key), None)
        merged[key] = value
    if len(merged) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    conn.execute(delete(iam_tags).where(*_where(account_id, kind, name)))
    if merged:
        conn.execute(insert(iam_tags), [dict(account_id=account_id, kind=kind, name_lower=name.lower(), key=k,
                                             value=v) for k, v in merged.items()])


def untag(conn: Connection, account_id: str, kind: str, name: str, keys: Iterable[str]) -> None:
    wanted = {k.lower() for k in keys}
    current = tags_of(conn, account_id, kind, name)
    remaining = {k: v for k, v in current.items() if k.lower() not in wanted}
    conn.execute(delete(iam_tags).where(*_where(account_id, kind, name)))
    if remaining:
        tag(conn, account_id, kind, name, remaining)


def drop(conn: Connection, account_id: str, kind: str, name: str) -> None:
    conn.execute(delete(iam_tags).where(*_where(account_id, kind, name)))
