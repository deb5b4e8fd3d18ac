"""Compliance (PutComplianceItems): each resource's items per compliance type, and per (resource, type) the
last upload's execution summary and content hash (kept even when the upload held no items)."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

compliance_uploads = Table(
    "ssm_compliance_uploads",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("resource_type", String(50), primary_key=True),
    Column("resource_id", String(100), primary_key=True),
    Column("compliance_type", String(100), primary_key=True),
    Column("execution_time", UtcDateTime(), nullable=False),
    Column("execution_id", String(100)),
    Column("execution_type", String(50)),
    Column("content_hash", String(256)),
    Column("updated_at", UtcDateTime(), nullable=False),
)

compliance_items = Table(
    "ssm_compliance_items",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("resource_type", String(50), primary_key=True),
    Column("resource_id", String(100), primary_key=True),
    Column("compliance_type", String(100), primary_key=True),
    # The item's Id, or (an Id being optional in a COMPLETE upload) its position in that upload.
    Column("item_key", String(128), primary_key=True),
    Column("item_id", String(128)),
    Column("title", String(500)),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("details", Text, nullable=False),
    Column("execution_time", UtcDateTime(), nullable=False),
    Column("execution_id", String(100)),
    Column("execution_type", String(50)),
    Index("ix_ssm_compliance_items_type", "account_id", "region", "compliance_type", "status"),
)
