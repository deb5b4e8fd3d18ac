"""Parameter Store: parameters, their versions and labels, and SSM resource tags."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

parameters = Table(
    "ssm_parameters",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(2048), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("tier", String(32), nullable=False),
    Column("data_type", String(32), nullable=False),
    Column("key_id", String(256)),
    Column("description", String(1024)),
    Column("allowed_pattern", String(1024)),
    Column("policies", Text),
    Column("last_modified", UtcDateTime(), nullable=False),
    Column("last_modified_user", String(2048), nullable=False),
)

parameter_versions = Table(
    "ssm_parameter_versions",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(2048), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("key_id", String(256)),
    Column("description", String(1024)),
    Column("allowed_pattern", String(1024)),
    Column("tier", String(32), nullable=False),
    Column("data_type", String(32), nullable=False),
    Column("policies", Text),
    Column("labels", Text, nullable=False, default=""),
    Column("last_modified", UtcDateTime(), nullable=False),
    Column("last_modified_user", String(2048), nullable=False),
    ForeignKeyConstraint(["account_id", "region", "name"],
                         ["ssm_parameters.account_id", "ssm_parameters.region", "ssm_parameters.name"],
                         ondelete="CASCADE"),
)

resource_tags = Table(
    "ssm_resource_tags",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("resource_type", String(32), primary_key=True),
    Column("resource_id", String(2048), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)
