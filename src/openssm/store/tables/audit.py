"""The audit trail: one row per API call, chained by keyed hashes in sequence order, and the chain's head."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("event_time", UtcDateTime(), nullable=False, index=True),
    Column("event_source", String(64), nullable=False),
    Column("event_name", String(128), nullable=False),
    Column("username", String(256)),
    Column("access_key_id", String(32), index=True),
    Column("read_only", Boolean, nullable=False),
    Column("resource_type", String(64)),
    Column("resource_names", Text, nullable=False),
    Column("error_code", String(128)),
    Column("event_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row (id 1): the last appended record, MACed, so records removed from the end of the trail are noticed.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
)
