"""Turning a caller into the policies that govern it, cached: this runs on every API call.

IAM is eventually consistent at AWS too. Here a write in this process invalidates at once (the
generation counter); other processes (workers, replicas) see it within `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from sqlalchemy import Connection

from openssm.iam import bindings, entities, managed_policies
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.memberships import GROUP_MEMBERS
from openssm.iam.policy import NamedPolicy, PolicyDocument, PolicyKind, parse_policy
from openssm.iam.principals import Caller, PrincipalType
from openssm.store.db import Database

ScpSource = Callable[[Connection, str], Sequence[Sequence[NamedPolicy]]]


def no_scps(_conn: Connection, _account_id: str) -> Sequence[Sequence[NamedPolicy]]:
    return ()


@dataclass(frozen=True)
class PrincipalPolicies:
    identity: tuple[NamedPolicy, ...]
    boundary: NamedPolicy | None
    session: tuple[NamedPolicy, ...] | None
    scp_levels: tuple[tuple[NamedPolicy, ...], ...]

    @cached_property  # computed once per cached policy set, not per request
    def mention_resource_tags(self) -> bool:
        """Whether any policy reads resource tags; if none does, authorization need not load them."""
        docs = [d for _, d in self.identity + (self.session or ())]
        docs += [d for level in self.scp_levels for _, d in level]
        if self.boundary is not None:
            docs.append(self.boundary[1])
        return any("resourcetag/" in d.text.lower() for d in docs)


@lru_cache(maxsize=4096)
def _parsed(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> PolicyDocument:
    # Documents are immutable text and parsing is pure: after an IAM write invalidates every cached
    # principal, reloading must not re-parse ReadOnlyAccess (~150 KB) for each of them.
    return parse_policy(text, kind)


def entity_policies(conn: Connection, entity: Entity) -> list[NamedPolicy]:
    found = [(name, _parsed(doc)) for name, doc in bindings.inline(conn, entity).items()]
    for arn in bindings.attached(conn, entity):
        document = managed_policies.default_document(conn, arn)
        if document is not None:
            found.append((arn, _parsed(document)))
    return found


def _groups_of(conn: Connection, user: Entity) -> list[Entity]:
    names = GROUP_MEMBERS.parents(conn, user.account_id, user.name)
    groups = [entities.find(conn, user.account_id, EntityKind.GROUP, name) for name in names]
    return [g for g in groups if g is not None]


def _boundary(conn: Connection, entity: Entity | None) -> NamedPolicy | None:
    if entity is None or not entity.boundary_arn:
        return None
    document = managed_policies.default_document(conn, entity.boundary_arn)
    return (entity.boundary_arn, _parsed(document)) if document else None


def load_policies(conn: Connection, caller: Caller, scps: ScpSource) -> PrincipalPolicies:
    identity: list[NamedPolicy] = []
    entity: Entity | None = None
    session: tuple[NamedPolicy, ...] | None = None
    if caller.principal_type is PrincipalType.USER:
        entity = entities.find(conn, caller.account_id, EntityKind.USER, caller.name)
        if entity is not None:
            identity = entity_policies(conn, entity)
            for group in _groups_of(conn, entity):
                identity += entity_policies(conn, group)
    elif caller.principal_type is PrincipalType.ASSUMED_ROLE and caller.role_arn:
        entity = entities.find_by_arn(conn, caller.role_arn)
        if entity is not None:
            identity = entity_policies(conn, entity)
    if caller.session_policies or caller.session_policy_arns:
        named = [(f"session-{i}", _parsed(t, PolicyKind.SESSION)) for i, t in enumerate(caller.session_policies)]
        for arn in caller.session_policy_arns:
            document = managed_policies.default_document(conn, arn)
            if document is not None:
                named.append((arn, _parsed(document)))
        session = tuple(named)
    levels = tuple(tuple(level) for level in scps(conn, caller.account_id))
    return PrincipalPolicies(tuple(identity), _boundary(conn, entity), session, levels)


class PolicyDirectory:
    """A cache of PrincipalPolicies per caller, dropped on any IAM or Organizations write."""

    def __init__(self, db: Database, scps: ScpSource = no_scps, ttl: float = 2.0) -> None:
        self._db = db
        self._scps = scps
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[tuple[object, ...], tuple[float, int, PrincipalPolicies]] = {}
        self.generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._cache.clear()

    def set_scp_source(self, scps: ScpSource) -> None:
        self._scps = scps
        self.invalidate()

    def policies_for(self, caller: Caller) -> PrincipalPolicies:
        key = (caller.arn, caller.role_arn, caller.session_policies, caller.session_policy_arns)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now and hit[1] == self.generation:
            return hit[2]
        generation = self.generation
        with self._db.read() as conn:
            loaded = load_policies(conn, caller, self._scps)
        with self._lock:
            if generation == self.generation:
                self._cache[key] = (now + self._ttl, generation, loaded)
        return loaded
