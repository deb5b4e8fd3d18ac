"""Hybrid activations and the managed instances registered with them (their RSA public key, the role their
credentials come from, and what their last heartbeat said)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

activations = Table(
    "ssm_activations",
    metadata,
    Column("activation_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("region", String(32), nullable=False),
    Column("code_digest", String(64), nullable=False),
    Column("iam_role", String(1024), nullable=False),
    Column("registration_limit", Integer, nullable=False),
    Column("registrations_count", Integer, nullable=False),
    Column("default_instance_name", String(256)),
    Column("description", String(256)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

managed_instances = Table(
    "ssm_managed_instances",
    metadata,
    Column("instance_id", String(20), primary_key=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("region", String(32), nullable=False),
    Column("activation_id", String(36)),
    Column("iam_role", String(1024), nullable=False),
    Column("fingerprint", String(256), nullable=False, unique=True),
    Column("public_key", Text, nullable=False),
    # When public_key was registered or last rotated (UpdateManagedInstancePublicKey): its age decides when
    # RequestManagedInstanceRoleToken asks the node for a new one.
    Column("key_set_at", UtcDateTime(), nullable=False),
    Column("name", String(256)),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("deregistered", Boolean, nullable=False),
    Column("last_ping", UtcDateTime()),
    Column("agent_name", String(256)),
    Column("agent_version", String(256)),
    Column("agent_status", String(256)),
    Column("platform_type", String(32)),
    Column("platform_name", String(256)),
    Column("platform_version", String(256)),
    Column("ip_address", String(64)),
    Column("computer_name", String(256)),
    Column("connection_channel", String(64)),
    # When the service revoked the node's credentials (Default Host Management reset or its role changed): the
    # node reads as ConnectionLost, and its control channel is closed, until it is issued credentials again.
    Column("cut_off_at", UtcDateTime()),
)
