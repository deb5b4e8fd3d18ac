"""Organizations: the organization, its tree of roots and OUs, member accounts, and policies."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

org_organizations = Table(
    "org_organizations",
    metadata,
    Column("org_id", String(34), primary_key=True),
    Column("management_account", String(12), nullable=False, unique=True),
    Column("feature_set", String(32), nullable=False),
    Column("root_id", String(34), nullable=False),
    Column("scp_enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# The root and the OUs: every node of the tree but accounts.
org_units = Table(
    "org_units",
    metadata,
    Column("unit_id", String(68), primary_key=True),
    Column("org_id", String(34), nullable=False, index=True),
    Column("parent_id", String(68)),
    Column("name", String(128), nullable=False),
)

org_accounts = Table(
    "org_accounts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("org_id", String(34), nullable=False, index=True),
    Column("parent_id", String(68), nullable=False),
    Column("joined_method", String(16), nullable=False),
    Column("joined_at", UtcDateTime(), nullable=False),
)

org_policies = Table(
    "org_policies",
    metadata,
    Column("policy_id", String(130), primary_key=True),
    Column("org_id", String(34), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("description", String(512), nullable=False),
    Column("type", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("aws_managed", Boolean, nullable=False),
)

org_attachments = Table(
    "org_attachments",
    metadata,
    Column("policy_id", String(130), primary_key=True),
    Column("target_id", String(100), primary_key=True),
)

# Tags on the root, OUs, accounts and policies, keyed by the resource's id within its organization.
org_tags = Table(
    "org_tags",
    metadata,
    Column("org_id", String(34), primary_key=True),
    Column("resource_id", String(130), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

# CreateAccount requests: they complete at once here, but AWS models them as asynchronous requests.
org_create_status = Table(
    "org_create_status",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("org_id", String(34), nullable=False, index=True),
    Column("account_id", String(12)),
    Column("account_name", String(50), nullable=False),
    Column("state", String(16), nullable=False),
    Column("failure_reason", String(64)),
    Column("requested_at", UtcDateTime(), nullable=False),
)
