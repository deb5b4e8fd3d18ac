"""Parameter Store: parameters (the newest version's attributes), every version, labels, and SSM resource tags."""

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
    # From the Expiration policy, so listings can leave expired parameters out in SQL.
    Column("expires_at", UtcDateTime()),
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
    Column("last_modified", UtcDateTime(), nullable=False),
    Column("last_modified_user", String(2048), nullable=False),
    ForeignKeyConstraint(["account_id", "region", "name"],
                         ["ssm_parameters.account_id", "ssm_parameters.region", "ssm_parameters.name"],
                         ondelete="CASCADE"),
)

# A label names at most one version of a parameter: the key holds no version.
parameter_labels = Table(
    "ssm_parameter_labels",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("region", String(32), primary_key=True),
    Column("name", String(2048), primary_key=True),
    Column("label", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    ForeignKeyConstraint(["account_id", "region", "name", "version"],
                         ["ssm_parameter_versions.account_id", "ssm_parameter_versions.region",
                          "ssm_parameter_versions.name", "ssm_parameter_versions.version"],
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
