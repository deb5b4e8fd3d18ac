"""Managed instances (mi-…): registration by RSA key, heartbeats, and the fleet view
(DescribeInstanceInformation), deregistration and role changes (DESIGN §4).

PingStatus follows the heartbeat AWS's agent sends every 5 minutes (or an open control channel): Online
while one arrived in the last 10 minutes (a missed beat is tolerated), ConnectionLost after that or at once
when the service cut the node off (services/default_host_management.py), and Inactive once none has arrived
for 30 days or before the first. EC2 instances (i-…) are listed once they have reported: registering a key for
Default Host Management does not make an instance managed by itself.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from openssm.errors import AwsError, ValidationError
from openssm.services.activations import Activation
from openssm.services.parameter_model import Scope
from openssm.services.resource_tags import unknown_resource
from openssm.store.tables.instances import managed_instances

ONLINE_WITHIN = dt.timedelta(minutes=10)
INACTIVE_AFTER = dt.timedelta(days=30)
HEARTBEAT_FIELDS = {"AgentName": "agent_name", "AgentVersion": "agent_version", "AgentStatus": "agent_status",
                    "PlatformType": "platform_type", "PlatformName": "platform_name",
                    "PlatformVersion": "platform_version", "IPAddress": "ip_address", "ComputerName": "computer_name",
                    "SSMConnectionChannel": "connection_channel"}


class InvalidInstanceId(AwsError):
    code = "InvalidInstanceId"


@dataclass(frozen=True)
class ManagedInstance:
    account_id: str
    region: str
    instance_id: str
    iam_role: str
    activation_id: str | None
    name: str | None
    registered_at: dt.datetime
    last_ping: dt.datetime | None
    ping_status: str
    platform_type: str | None = None
    platform_name: str | None = None
    platform_version: str | None = None
    agent_name: str | None = None
    agent_version: str | None = None
    ip_address: str | None = None
    computer_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    resource_type: str = "ManagedInstance"

    @property
    def arn(self) -> str:
        return f"arn:aws:ssm:{self.region}:{self.account_id}:managed-instance/{self.instance_id}"


@dataclass(frozen=True)
class NodeKey:
    """What authenticating a node's RSA-signed request needs."""

    instance_id: str
    account_id: str
    region: str
    public_key: str
    fingerprint: str
    key_set_at: dt.datetime  # registration, or the last rotation (services/node_keys.py)


def new_instance_id() -> str:
    return "mi-" + secrets.token_hex(9)[:17]


def ping_status(last_ping: dt.datetime | None, now: dt.datetime, cut_off: bool = False) -> str:
    if last_ping is None or now - last_ping > INACTIVE_AFTER:
        return "Inactive"
    return "Online" if now - last_ping <= ONLINE_WITHIN and not cut_off else "ConnectionLost"


def register(conn: Connection, activation: Activation, public_key: str, fingerprint: str,
             now: dt.datetime) -> str:
    """A new managed instance for a redeemed activation; a fingerprint registers only once."""
    taken = conn.execute(sa.select(managed_instances.c.instance_id).where(
        managed_instances.c.fingerprint == fingerprint)).first()
    if taken is not None:
        raise ValidationError(f"The fingerprint {fingerprint} is already registered to {taken.instance_id}. "
                              "A node registers once; deregister it first to register it again.")
    instance_id = new_instance_id()
    conn.execute(sa.insert(managed_instances).values(
        instance_id=instance_id, account_id=activation.account_id, region=activation.region,
        activation_id=activation.activation_id, iam_role=activation.iam_role, fingerprint=fingerprint,
        public_key=public_key, key_set_at=now, name=activation.default_instance_name, registered_at=now,
        deregistered=False))
    return instance_id


def node_key(conn: Connection, instance_id: str) -> NodeKey | None:
    """The key of a registered (not deregistered) node, for its RSA-signed requests."""
    row = conn.execute(sa.select(managed_instances).where(managed_instances.c.instance_id == instance_id,
                                                          managed_instances.c.deregistered.is_(False))).first()
    return None if row is None else NodeKey(row.instance_id, row.account_id, row.region, row.public_key,
                                            row.fingerprint, row.key_set_at)


def get(conn: Connection, account_id: str, region: str, instance_id: str, now: dt.datetime
        ) -> ManagedInstance | None:
    row = conn.execute(sa.select(managed_instances).where(*_one(account_id, region, instance_id))).first()
    return None if row is None else _instance(row, now)


def heartbeat(conn: Connection, account_id: str, region: str, instance_id: str, fields: Mapping[str, str],
              now: dt.datetime) -> None:
    """UpdateInstanceInformation: record what the agent says about itself; counts as a ping, and proves the
    node holds credentials that work (so it is no longer cut off)."""
    values: dict[str, object] = {column: fields[key] for key, column in HEARTBEAT_FIELDS.items() if key in fields}
    values["last_ping"] = now
    values["cut_off_at"] = None
    if not conn.execute(sa.update(managed_instances).where(*_one(account_id, region, instance_id))
                        .values(values)).rowcount:
        raise InvalidInstanceId(f"Instance Id {instance_id} is not registered. Register it and try again.")


def mark_all_seen(conn: Connection, instance_ids: Sequence[str], now: dt.datetime) -> None:
    """Nodes whose control channel is open or whose message poll arrived: as good as a heartbeat for
    PingStatus."""
    for start in range(0, len(instance_ids), _IN_CHUNK):
        conn.execute(sa.update(managed_instances).where(
            managed_instances.c.instance_id.in_(list(instance_ids[start:start + _IN_CHUNK])),
            managed_instances.c.deregistered.is_(False)).values(last_ping=now))


_IN_CHUNK = 500  # ids per IN (...): SQLite allows 32,766 bound parameters, older builds 999


def listed(account_id: str, region: str) -> tuple[ColumnElement[bool], ...]:
    """The conditions of the managed instances `describe` lists: registered, and EC2 instances only once they
    have reported (DHMC declares them first); for queries that need less than whole nodes."""
    c = managed_instances.c
    return (c.account_id == account_id, c.region == region, c.deregistered.is_(False),
            sa.or_(c.last_ping.is_not(None), c.instance_id.not_like("i-%")))


def describe(conn: Connection, account_id: str, region: str, now: dt.datetime,
             instance_ids: Sequence[str] = ()) -> list[ManagedInstance]:
    query = sa.select(managed_instances).where(*listed(account_id, region))
    if instance_ids:
        query = query.where(managed_instances.c.instance_id.in_(list(instance_ids)))
    return [_instance(r, now) for r in conn.execute(query.order_by(managed_instances.c.instance_id))]


def cut_off_among(conn: Connection, instance_ids: Sequence[str]) -> list[str]:
    """Those of `instance_ids` the service has cut off or deregistered: their channels must close."""
    c, found = managed_instances.c, []
    for start in range(0, len(instance_ids), _IN_CHUNK):
        found += [r.instance_id for r in conn.execute(sa.select(c.instance_id).where(
            c.instance_id.in_(list(instance_ids[start:start + _IN_CHUNK])),
            sa.or_(c.deregistered.is_(True), c.cut_off_at.is_not(None))))]
    return found


def deregister(conn: Connection, account_id: str, region: str, instance_id: str) -> None:
    """The node can no longer get credentials; its issued sessions end with it (see sessions.revoke_instance)."""
    if not conn.execute(sa.update(managed_instances).where(*_one(account_id, region, instance_id))
                        .values(deregistered=True)).rowcount:
        raise InvalidInstanceId(f"Instance Id {instance_id} is not a registered managed node.")


def update_role(conn: Connection, account_id: str, region: str, instance_id: str, iam_role: str) -> None:
    if not conn.execute(sa.update(managed_instances).where(*_one(account_id, region, instance_id))
                        .values(iam_role=iam_role)).rowcount:
        raise InvalidInstanceId(f"Instance Id {instance_id} is not a registered managed node.")


def _one(account_id: str, region: str, instance_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    c = managed_instances.c
    return (c.instance_id == instance_id, c.account_id == account_id, c.region == region,
            c.deregistered.is_(False))


def _instance(r: sa.Row[tuple[object, ...]], now: dt.datetime) -> ManagedInstance:
    return ManagedInstance(r.account_id, r.region, r.instance_id, r.iam_role, r.activation_id, r.name,
                           r.registered_at, r.last_ping, ping_status(r.last_ping, now, r.cut_off_at is not None),
                           r.platform_type, r.platform_name, r.platform_version, r.agent_name, r.agent_version,
                           r.ip_address, r.computer_name,
                           resource_type="EC2Instance" if r.instance_id.startswith("i-") else "ManagedInstance")


class InstanceTagTarget:
    """Makes managed instances taggable (AddTagsToResource with ResourceType ManagedInstance)."""

    def tag_resource_id(self, conn: Connection, scope: Scope, resource_id: str) -> str:
        if get(conn, scope.account_id, scope.region, resource_id, scope.now) is None:
            raise unknown_resource()
        return resource_id

    def tag_resource_arn(self, scope: Scope, resource_id: str) -> str:
        return f"arn:aws:ssm:{scope.region}:{scope.account_id}:managed-instance/{resource_id}"
