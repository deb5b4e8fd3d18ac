"""Temporary credentials issued by STS (secrets and session tokens sealed)."""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

sts_sessions = Table(
    "sts_sessions",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("token_sealed", LargeBinary, nullable=False),
    Column("principal_type", String(32), nullable=False),
    Column("arn", String(2048), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("name", String(256), nullable=False),
    Column("role_arn", String(2048)),
    Column("session_policy", Text),
    Column("policy_arns", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("transitive_keys", Text, nullable=False),
    Column("source_identity", String(64)),
    # Set when the session is a managed instance's (RequestManagedInstanceRoleToken): the node itself.
    Column("instance_id", String(20)),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
)
