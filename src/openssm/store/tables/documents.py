"""SSM documents: one row per document, one per version (its content exactly as submitted), one per account
it is shared with."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

documents = Table(
    "ssm_documents",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("document_type", String(64), nullable=False),
    Column("target_type", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("default_version", Integer, nullable=False),
    Column("latest_version", Integer, nullable=False),
)

document_versions = Table(
    "ssm_document_versions",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("version_name", String(128)),
    Column("display_name", String(1024), nullable=False),
    Column("document_format", String(8), nullable=False),
    Column("content", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    ForeignKeyConstraint(["account_id", "region", "name"],
                         ["ssm_documents.account_id", "ssm_documents.region", "ssm_documents.name"],
                         ondelete="CASCADE"),
)

document_shares = Table(
    "ssm_document_shares",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("shared_with", String(12), primary_key=True),  # an account id, or "all" (public)
    Column("shared_version", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    ForeignKeyConstraint(["account_id", "region", "name"],
                         ["ssm_documents.account_id", "ssm_documents.region", "ssm_documents.name"],
                         ondelete="CASCADE"),
)
