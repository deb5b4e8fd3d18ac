"""Accounts: the namespaces every other resource lives in."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from openssm.store.metadata import UtcDateTime, metadata

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("email", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False, default="ACTIVE"),
)
