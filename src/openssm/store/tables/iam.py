"""IAM: users, groups, roles and instance profiles (one entity table), policies, keys, tags."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKeyConstraint, Integer, LargeBinary, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

# Users, groups, roles and instance profiles share one shape; `kind` tells them apart and names are
# unique per kind ignoring case, as IAM enforces.
iam_entities = Table(
    "iam_entities",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name_lower", String(128), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("entity_id", String(32), nullable=False, unique=True),
    Column("arn", String(1024), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("description", String(1000)),
    Column("boundary_arn", String(2048)),
    Column("trust_policy", Text),
    Column("max_session_duration", Integer),
)

iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("group_lower", String(128), primary_key=True),
    Column("user_lower", String(128), primary_key=True),
)

iam_profile_roles = Table(
    "iam_profile_roles",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("profile_lower", String(128), primary_key=True),
    Column("role_lower", String(128), primary_key=True),
)

iam_policies = Table(
    "iam_policies",
    metadata,
    Column("arn", String(2048), primary_key=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("policy_id", String(32), nullable=False, unique=True),
    Column("description", String(1000)),
    Column("default_version", String(16), nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

iam_policy_versions = Table(
    "iam_policy_versions",
    metadata,
    Column("policy_arn", String(2048), primary_key=True),
    Column("version_id", String(16), primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    ForeignKeyConstraint(["policy_arn"], ["iam_policies.arn"], ondelete="CASCADE"),
)

iam_attachments = Table(
    "iam_attachments",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name_lower", String(128), primary_key=True),
    Column("policy_arn", String(2048), primary_key=True),
)

iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name_lower", String(128), primary_key=True),
    Column("policy_name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
)

iam_access_keys = Table(
    "iam_access_keys",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("user_lower", String(128), nullable=False, index=True),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime()),
    Column("last_used_service", String(64)),
    Column("last_used_region", String(32)),
)

iam_tags = Table(
    "iam_tags",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name_lower", String(2048), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)
