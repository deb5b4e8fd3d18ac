"""Tags on SSM resources, keyed by resource type and id, and the dispatch from a ResourceType to the service
that owns such resources (parameters now; documents, managed instances… register the same way)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from sqlalchemy import ColumnElement, Connection, bindparam, delete, insert, select

from openssm.services.parameter_model import InvalidResourceId, InvalidResourceType, Scope, TooManyTags
from openssm.store.tables.parameters import resource_tags

MAX_TAGS = 50

# Built once: read on every authorization of a tagged resource.
_TAGS_OF = select(resource_tags.c.key, resource_tags.c.value).where(
    resource_tags.c.account_id == bindparam("account"), resource_tags.c.region == bindparam("region"),
    resource_tags.c.resource_type == bindparam("kind"), resource_tags.c.resource_id == bindparam("resource")
).order_by(resource_tags.c.key)


def _where(account_id: str, region: str, kind: str, resource_id: str) -> tuple[ColumnElement[bool], ...]:
    c = resource_tags.c
    return (c.account_id == account_id, c.region == region, c.resource_type == kind, c.resource_id == resource_id)


class ResourceTagStore:
    """The tags themselves, for any resource type."""

    def of(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str) -> dict[str, str]:
        rows = conn.execute(_TAGS_OF, {"account": account_id, "region": region, "kind": kind, "resource": resource_id})
        return {r.key: r.value for r in rows}

    def of_kind(self, conn: Connection, account_id: str, region: str, kind: str) -> dict[str, dict[str, str]]:
        """Every tagged resource of a kind with its tags, in one read (choosing among thousands by tag)."""
        c = resource_tags.c
        found: dict[str, dict[str, str]] = {}
        for r in conn.execute(select(c.resource_id, c.key, c.value).where(
                c.account_id == account_id, c.region == region, c.resource_type == kind).order_by(c.key)):
            found.setdefault(r.resource_id, {})[r.key] = r.value
        return found

    def add(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str,
            tags: Mapping[str, str]) -> None:
        """Add or replace tags; a resource keeps at most 50."""
        current = self.of(conn, account_id, region, kind, resource_id)
        if len({**current, **tags}) > MAX_TAGS:
            raise TooManyTags("You exceeded the maximum number of tags allowed for this resource. A resource can "
                              f"have at most {MAX_TAGS} tags.")
        if not tags:
            return
        conn.execute(delete(resource_tags).where(*_where(account_id, region, kind, resource_id),
                                                 resource_tags.c.key.in_(list(tags))))
        conn.execute(insert(resource_tags), [dict(account_id=account_id, region=region, resource_type=kind,
                                                  resource_id=resource_id, key=k, value=v) for k, v in tags.items()])

    def remove(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str,
               keys: Iterable[str]) -> None:
        conn.execute(delete(resource_tags).where(*_where(account_id, region, kind, resource_id),
                                                 resource_tags.c.key.in_(list(keys))))

    def drop(self, conn: Connection, account_id: str, region: str, kind: str, resource_id: str) -> None:
        conn.execute(delete(resource_tags).where(*_where(account_id, region, kind, resource_id)))


def unknown_resource() -> InvalidResourceId:
    """AWS's answer when the resource to tag does not exist (every TagTarget's)."""
    return InvalidResourceId("The resource ID isn't valid. Verify that you entered the correct ID and try again.")


class TagTarget(Protocol):
    """What a service offers to make its resources taggable."""

    def tag_resource_id(self, conn: Connection, scope: Scope, resource_id: str) -> str:
        """The stored id of an existing resource; raises InvalidResourceId otherwise."""
        ...

    def tag_resource_arn(self, scope: Scope, resource_id: str) -> str: ...


class TaggableResources:
    """AddTagsToResource, RemoveTagsFromResource and ListTagsForResource, whatever the resource type."""

    def __init__(self, store: ResourceTagStore, targets: Mapping[str, TagTarget]) -> None:
        self.store = store
        self._targets = dict(targets)

    def _target(self, kind: str) -> TagTarget:
        target = self._targets.get(kind)
        if target is None:
            raise InvalidResourceType("The resource type isn't valid. For example, if you are attempting to tag an "
                                      "EC2 instance, the instance must be a registered managed node.")
        return target

    def arn(self, scope: Scope, kind: str, resource_id: str) -> str:
        return self._target(kind).tag_resource_arn(scope, resource_id)

    def stored_id(self, conn: Connection, scope: Scope, kind: str, resource_id: str) -> str:
        return self._target(kind).tag_resource_id(conn, scope, resource_id)

    def tags(self, conn: Connection, scope: Scope, kind: str, resource_id: str) -> dict[str, str]:
        stored = self.stored_id(conn, scope, kind, resource_id)
        return self.store.of(conn, scope.account_id, scope.region, kind, stored)

    def add(self, conn: Connection, scope: Scope, kind: str, resource_id: str, tags: Mapping[str, str]) -> None:
        stored = self.stored_id(conn, scope, kind, resource_id)
        self.store.add(conn, scope.account_id, scope.region, kind, stored, tags)

    def remove(self, conn: Connection, scope: Scope, kind: str, resource_id: str, keys: Iterable[str]) -> None:
        stored = self.stored_id(conn, scope, kind, resource_id)
        self.store.remove(conn, scope.account_id, scope.region, kind, stored, keys)
