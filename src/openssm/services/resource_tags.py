"""Tags on SSM resources (parameters now; documents, managed instances… later), keyed by type and id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import ColumnElement, Connection, bindparam, delete, insert, select

from openssm.services.parameter_model import TooManyTags
from openssm.store.tables.parameters import resource_tags

MAX_TAGS = 50


def _where(account_id: str, region: str, kind: str, resource_id: str) -> tuple[ColumnElement[bool], ...]:
    c = resource_tags.c
    return (c.account_id == account_id, c.region == region, c.resource_type == kind, c.resource_id == resource_id)


# Built once: read on every authorization of a tagged resource.
_TAGS_OF = select(resource_tags.c.key, resource_tags.c.value).where(
    resource_tags.c.account_id == bindparam("account"), resource_tags.c.region == bindparam("region"),
    resource_tags.c.resource_type == bindparam("kind"), resource_tags.c.resource_id == bindparam("resource")
).order_by(resource_tags.c.key)


class ResourceTags:
    def of(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str) -> dict[str, str]:
        rows = conn.execute(_TAGS_OF, {"account": account_id, "region": region, "kind": kind, "resource": resource_id})
        return {r.key: r.value for r in rows}

    def add(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str,
            tags: Mapping[str, str]) -> None:
        merged = {**self.of(conn, account_id, region, kind, resource_id), **tags}
        if len(merged) > MAX_TAGS:
            raise TooManyTags("You exceeded the maximum number of tags allowed for this resource.")
        self.drop(conn, account_id, region, kind, resource_id)
        conn.execute(insert(resource_tags), [dict(account_id=account_id, region=region, resource_type=kind,
                                                  resource_id=resource_id, key=k, value=v) for k, v in merged.items()])

    def remove(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str,
               keys: Iterable[str]) -> None:
        conn.execute(delete(resource_tags).where(*_where(account_id, region, kind, resource_id),
                                                 resource_tags.c.key.in_(list(keys))))

    def drop(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str) -> None:
        conn.execute(delete(resource_tags).where(*_where(account_id, region, kind, resource_id)))
