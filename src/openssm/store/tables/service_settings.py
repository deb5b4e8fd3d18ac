"""SSM service settings: one row per account, region and setting that has been customized; a setting
without a row has its default."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from openssm.store.metadata import UtcDateTime, metadata

service_settings = Table(
    "ssm_service_settings",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("setting_id", String(1000), primary_key=True),
    Column("value", String(4096), nullable=False),
    Column("last_modified", UtcDateTime(), nullable=False),
    Column("last_modified_user", String(2048), nullable=False),
)
