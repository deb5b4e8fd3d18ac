"""Which managed nodes an association's targets name: InstanceIds (`*` for every node), tag:<key> and tag-key,
every target applying (AND) and any of a target's values (OR), as Run Command reads SendCommand's Targets; or
the legacy InstanceId. The fleet and its tags are read once for many associations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from openssm.services import instances
from openssm.services.association_model import AssociationSpec, Target
from openssm.services.association_rules import ALL_NODES
from openssm.services.instances import ManagedInstance
from openssm.services.resource_tags import ResourceTagStore

Tagged = tuple[ManagedInstance, Mapping[str, str]]


def fleet(conn: Connection, account_id: str, region: str, now: dt.datetime) -> list[Tagged]:
    """Every managed node of the account and region with its tags, in two reads."""
    nodes = instances.describe(conn, account_id, region, now)
    tags = ResourceTagStore().of_kind(conn, account_id, region, "ManagedInstance")
    return [(n, tags.get(n.instance_id, {})) for n in nodes]


def matches(targets: Sequence[Target], node: Tagged) -> bool:
    """Every target applies (AND), any of a target's values (OR), as Run Command reads Targets."""
    return all(_matches(target, node) for target in targets)


def _matches(target: Target, node: Tagged) -> bool:
    instance, tags = node
    wanted = set(target.values)
    if target.key == "InstanceIds":
        return ALL_NODES in wanted or instance.instance_id in wanted
    if target.key == "tag-key":
        return bool(wanted & set(tags))
    if target.key.startswith("tag:"):
        return tags.get(target.key[4:]) in wanted
    return False


def nodes_of(spec: AssociationSpec, tagged: Sequence[Tagged]) -> list[ManagedInstance]:
    """The nodes the association applies to now, in node id order."""
    if spec.instance_id:
        return [n for n, _ in tagged if n.instance_id == spec.instance_id]
    return [t[0] for t in tagged if matches(spec.targets, t)]
