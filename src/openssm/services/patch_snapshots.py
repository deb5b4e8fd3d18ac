"""Deployable patch snapshots (GetDeployablePatchSnapshotForInstance): a node's patch baseline frozen under a
SnapshotId, so the nodes patched in one operation all work from the same approvals.

As AWS: a snapshot is specific to an account, patch group, operating system and snapshot ID; asking again with
the same ID answers the same snapshot for three days after it was made, then a new one is made. A baseline
override the node sends makes a snapshot of its own. The download (api/patch_snapshots) reads a node's snapshot
with `for_node`; the JSON it serves is the patching contract's (InstanceId, Product, PatchGroup, PatchBaseline…).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openssm.store.tables.patch_snapshots import patch_snapshot_nodes, patch_snapshots

SNAPSHOT_LIFETIME = dt.timedelta(days=3)  # AWS: the same content "up to three days after the snapshot was created"
URL_LIFETIME = dt.timedelta(hours=24)  # AWS: the presigned URL "expires 24 hours after"


@dataclass(frozen=True)
class Resolved:
    """What the node's patching is to follow: its operating system (AWS's enum), PRODUCT, patch group ("" when
    none) and baseline as GetPatchBaseline shows it (JSON-ready)."""

    operating_system: str
    product: str
    patch_group: str
    baseline_id: str
    baseline: Mapping[str, Any]


@dataclass(frozen=True)
class NodeSnapshot:
    account_id: str
    region: str
    snapshot_id: str
    instance_id: str
    operating_system: str
    product: str
    patch_group: str
    baseline_id: str
    baseline: Mapping[str, Any]
    created_at: dt.datetime

    def document(self) -> dict[str, Any]:
        """The snapshot as the node downloads it (the patching contract's JSON)."""
        return {"SnapshotId": self.snapshot_id, "InstanceId": self.instance_id, "AccountId": self.account_id,
                "Region": self.region, "Product": self.product, "OperatingSystem": self.operating_system,
                "PatchGroup": self.patch_group, "CreatedTime": iso(self.created_at),
                "PatchBaseline": dict(self.baseline)}


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def override_digest(override: Mapping[str, Any] | None) -> str:
    """Names a baseline override's snapshot: the same override (in any key order) makes the same one."""
    if not override:
        return ""
    return hashlib.sha256(json.dumps(override, sort_keys=True, default=str).encode()).hexdigest()


def deploy(conn: Connection, account_id: str, region: str, instance_id: str, snapshot_id: str, resolved: Resolved,
           digest: str, now: dt.datetime) -> NodeSnapshot:
    """The node's snapshot under `snapshot_id`: the one already made for its patch group, operating system (and
    override) if younger than three days, else `resolved`'s baseline frozen now."""
    _forget_old(conn, account_id, region, now)
    key = {"account_id": account_id, "region": region, "snapshot_id": snapshot_id,
           "operating_system": resolved.operating_system, "patch_group": resolved.patch_group,
           "override_digest": digest}
    row = _snapshot_row(conn, key)
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(patch_snapshots).values(
                    **key, baseline_id=resolved.baseline_id, created_at=now,
                    baseline=json.dumps(dict(resolved.baseline), sort_keys=True, default=str)))
        except IntegrityError:
            pass  # another node of the same operation froze it first: take theirs
        row = _snapshot_row(conn, key)
        assert row is not None
    node = {"account_id": account_id, "region": region, "snapshot_id": snapshot_id, "instance_id": instance_id}
    values = {"operating_system": resolved.operating_system, "patch_group": resolved.patch_group,
              "override_digest": digest, "product": resolved.product, "requested_at": now}
    n = patch_snapshot_nodes.c
    if not conn.execute(sa.update(patch_snapshot_nodes).where(*(n[k] == v for k, v in node.items()))
                        .values(values)).rowcount:
        conn.execute(sa.insert(patch_snapshot_nodes).values(**node, **values))
    return _node_snapshot(account_id, region, snapshot_id, instance_id, resolved.product, row)


def for_node(conn: Connection, account_id: str, region: str, snapshot_id: str, instance_id: str,
             now: dt.datetime) -> NodeSnapshot | None:
    """The snapshot the node was handed under `snapshot_id`, while it lives."""
    n = patch_snapshot_nodes.c
    node = conn.execute(sa.select(patch_snapshot_nodes).where(
        n.account_id == account_id, n.region == region, n.snapshot_id == snapshot_id,
        n.instance_id == instance_id)).first()
    if node is None:
        return None
    row = _snapshot_row(conn, {"account_id": account_id, "region": region, "snapshot_id": snapshot_id,
                               "operating_system": node.operating_system, "patch_group": node.patch_group,
                               "override_digest": node.override_digest})
    if row is None or row.created_at <= now - SNAPSHOT_LIFETIME:
        return None
    return _node_snapshot(account_id, region, snapshot_id, instance_id, node.product, row)


def _snapshot_row(conn: Connection, key: Mapping[str, str]) -> Any:
    s = patch_snapshots.c
    return conn.execute(sa.select(patch_snapshots).where(*(s[k] == v for k, v in key.items()))).first()


def _forget_old(conn: Connection, account_id: str, region: str, now: dt.datetime) -> None:
    """Snapshots past their three days (and the nodes' records of them) are dropped as new ones are asked for, so
    the tables hold only live ones and an old SnapshotId makes a new snapshot."""
    s, n, cutoff = patch_snapshots.c, patch_snapshot_nodes.c, now - SNAPSHOT_LIFETIME
    conn.execute(sa.delete(patch_snapshots).where(s.account_id == account_id, s.region == region,
                                                  s.created_at <= cutoff))
    conn.execute(sa.delete(patch_snapshot_nodes).where(n.account_id == account_id, n.region == region,
                                                       n.requested_at <= cutoff))


def _node_snapshot(account_id: str, region: str, snapshot_id: str, instance_id: str, product: str,
                   row: Any) -> NodeSnapshot:
    return NodeSnapshot(account_id, region, snapshot_id, instance_id, row.operating_system, product,
                        row.patch_group, row.baseline_id, json.loads(row.baseline), row.created_at)
