"""KMS keys (material sealed under the master key), their tags, and aliases, per account and region."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, LargeBinary, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

kms_keys = Table(
    "kms_keys",
    metadata,
    Column("key_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("arn", String(256), nullable=False),
    Column("description", String(8192), nullable=False),
    Column("key_manager", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("deletion_date", UtcDateTime()),
    Column("policy", Text, nullable=False),
    Column("material_sealed", LargeBinary, nullable=False),
)

kms_key_tags = Table(
    "kms_key_tags",
    metadata,
    Column("key_id", String(36), primary_key=True),
    Column("tag_key", String(128), primary_key=True),
    Column("tag_value", String(256), nullable=False),
    ForeignKeyConstraint(["key_id"], ["kms_keys.key_id"], ondelete="CASCADE"),
)

kms_aliases = Table(
    "kms_aliases",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("alias_name", String(256), primary_key=True),
    Column("key_id", String(36), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
