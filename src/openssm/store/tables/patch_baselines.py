"""Tables: patch baselines, the default baseline per operating system, patch groups."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

patch_baselines = Table(
    "ssm_patch_baselines",
    metadata,
    Column("baseline_id", String(20), primary_key=True),  # pb- and 17 hex digits
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    # What DescribePatchBaselines filters on, without reading the spec.
    Column("name", String(128), nullable=False),
    Column("operating_system", String(32), nullable=False),
    Column("spec", Text, nullable=False),  # JSON: everything CreatePatchBaseline/UpdatePatchBaseline set
    Column("client_token", String(64)),  # CreatePatchBaseline's ClientToken, for its idempotency
    Column("created_at", UtcDateTime(), nullable=False),
    Column("modified_at", UtcDateTime(), nullable=False),
    Index("ix_ssm_patch_baselines_account_region", "account_id", "region", "created_at"),
)

# An account's chosen default per operating system; none means AWS's predefined baseline.
default_patch_baselines = Table(
    "ssm_default_patch_baselines",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("operating_system", String(32), primary_key=True),
    Column("baseline_id", String(128), nullable=False),  # pb-… or the ARN of one of AWS's baselines
)

# One baseline per patch group and operating system.
patch_groups = Table(
    "ssm_patch_groups",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("patch_group", String(256), primary_key=True),
    Column("operating_system", String(32), primary_key=True),
    Column("baseline_id", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_ssm_patch_groups_baseline", "baseline_id"),
)
