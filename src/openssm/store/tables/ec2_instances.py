"""EC2-style instances the operator declared: their identity key (which signs their identity documents)
and the instance profile attached to them."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

ec2_instances = Table(
    "ec2_instances",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("instance_id", String(19), primary_key=True),
    Column("public_key", Text, nullable=False),
    Column("instance_profile", String(128)),
    Column("declared_at", UtcDateTime(), nullable=False),
)
