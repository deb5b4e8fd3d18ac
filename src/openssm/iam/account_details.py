"""GetAccountAuthorizationDetails: every user, group, role and managed policy of an account with the
policies that bind them, gathered in one read."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Connection

from openssm.iam import bindings, entities, instance_profiles, managed_policies, tags, users
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.managed_policies import ManagedPolicy, PolicyVersion


class DetailFilter(StrEnum):
    """The values of the API's Filter member."""

    USER = "User"
    ROLE = "Role"
    GROUP = "Group"
    LOCAL_MANAGED_POLICY = "LocalManagedPolicy"
    AWS_MANAGED_POLICY = "AWSManagedPolicy"


@dataclass(frozen=True)
class EntityDetails:
    entity: Entity
    inline: dict[str, str]
    attached: list[str]
    tags: dict[str, str] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    profiles: list[Entity] = field(default_factory=list)


@dataclass(frozen=True)
class PolicyDetails:
    policy: ManagedPolicy
    versions: list[PolicyVersion]


@dataclass(frozen=True)
class AccountDetails:
    users: list[EntityDetails]
    groups: list[EntityDetails]
    roles: list[EntityDetails]
    policies: list[PolicyDetails]


def _details(conn: Connection, entity: Entity) -> EntityDetails:
    kind = entity.kind
    return EntityDetails(
        entity, bindings.inline(conn, entity), bindings.attached(conn, entity),
        tags=tags.tags_of(conn, entity.account_id, kind.value, entity.name) if kind is not EntityKind.GROUP else {},
        groups=[g.name for g in users.groups_of(conn, entity)] if kind is EntityKind.USER else [],
        profiles=(instance_profiles.profiles_for_role(conn, entity.account_id, entity.name)
                  if kind is EntityKind.ROLE else []))


def _policies(conn: Connection, account_id: str, wanted: Collection[DetailFilter]) -> list[PolicyDetails]:
    found: list[ManagedPolicy] = []
    if DetailFilter.LOCAL_MANAGED_POLICY in wanted:
        found += managed_policies.list_policies(conn, account_id, "Local")
    if DetailFilter.AWS_MANAGED_POLICY in wanted:
        # AWS lists the AWS managed policies the account uses, not all of them.
        found += managed_policies.list_policies(conn, account_id, "AWS", only_attached=True)
    return [PolicyDetails(p, managed_policies.versions(conn, p.arn)) for p in found]


def account_details(conn: Connection, account_id: str, wanted: Collection[DetailFilter] = ()) -> AccountDetails:
    """Everything, or only the kinds in `wanted` (AWS's Filter; empty means all)."""
    wanted = set(wanted) or set(DetailFilter)

    def of(kind: EntityKind, flag: DetailFilter) -> list[EntityDetails]:
        if flag not in wanted:
            return []
        return [_details(conn, e) for e in entities.list_entities(conn, account_id, kind)]

    return AccountDetails(of(EntityKind.USER, DetailFilter.USER), of(EntityKind.GROUP, DetailFilter.GROUP),
                          of(EntityKind.ROLE, DetailFilter.ROLE), _policies(conn, account_id, wanted))
