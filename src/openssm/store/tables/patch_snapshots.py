"""Tables: deployable patch snapshots handed to nodes (GetDeployablePatchSnapshotForInstance).

A snapshot freezes a node's patch baseline under a SnapshotId; AWS keeps one per account, patch group, operating
system and snapshot ID, so the nodes patched in one operation share it. A baseline override given by the node
makes a snapshot of its own (keyed by the override's digest). Which snapshot each node was handed is kept beside,
with the node's product, for the download."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

patch_snapshots = Table(
    "ssm_patch_snapshots",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("snapshot_id", String(36), primary_key=True),
    Column("operating_system", String(32), primary_key=True),
    Column("patch_group", String(256), primary_key=True),  # "" when the node is in none
    Column("override_digest", String(64), primary_key=True),  # "" without a baseline override
    Column("baseline_id", String(128), nullable=False),
    Column("baseline", Text, nullable=False),  # GetPatchBaseline's fields, as JSON
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_ssm_patch_snapshots_created_at", "account_id", "region", "created_at"),
)

patch_snapshot_nodes = Table(
    "ssm_patch_snapshot_nodes",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("snapshot_id", String(36), primary_key=True),
    Column("instance_id", String(20), primary_key=True),
    Column("operating_system", String(32), nullable=False),
    Column("patch_group", String(256), nullable=False),
    Column("override_digest", String(64), nullable=False),
    Column("product", String(128), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Index("ix_ssm_patch_snapshot_nodes_requested_at", "account_id", "region", "requested_at"),
)
