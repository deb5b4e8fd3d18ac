"""State Manager: associations and their versions, their executions with one target row per node, and each
node's latest status per association (DescribeInstanceAssociationsStatus)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, Index, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

associations = Table(
    "ssm_associations",
    metadata,
    Column("association_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    # What the current version says that lists filter on, without the versions table.
    Column("name", String(128), nullable=False),  # the document, by name or ARN, as the caller gave it
    Column("instance_id", String(20)),  # a legacy association's one node (CreateAssociation's InstanceId)
    Column("association_name", String(128)),
    Column("association_version", Integer, nullable=False),
    Column("schedule_expression", String(256)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The next schedule tick; advanced in the transaction that creates that tick's execution.
    Column("next_run_at", UtcDateTime()),
    Column("last_execution_at", UtcDateTime()),
    Column("last_successful_at", UtcDateTime()),
    Index("ix_ssm_associations_account_region", "account_id", "region", "created_at"),
    Index("ix_ssm_associations_next_run_at", "next_run_at"),
)

association_versions = Table(
    "ssm_association_versions",
    metadata,
    Column("association_id", String(36), primary_key=True),
    Column("association_version", Integer, primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("spec", Text, nullable=False),  # JSON: everything CreateAssociation/UpdateAssociation set
    ForeignKeyConstraint(["association_id"], ["ssm_associations.association_id"], ondelete="CASCADE"),
)

association_executions = Table(
    "ssm_association_executions",
    metadata,
    Column("execution_id", String(36), primary_key=True),
    Column("association_id", String(36), nullable=False),
    Column("association_version", Integer, nullable=False),
    Column("document_version", String(16), nullable=False),  # resolved when the execution was created
    Column("status", String(16), nullable=False),
    Column("detailed_status", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_execution_at", UtcDateTime()),
    ForeignKeyConstraint(["association_id"], ["ssm_associations.association_id"], ondelete="CASCADE"),
    Index("ix_ssm_association_executions_association", "association_id", "created_at"),
    # The scheduler reads every open execution each pass.
    Index("ix_ssm_association_executions_status", "status"),
)

execution_targets = Table(
    "ssm_association_execution_targets",
    metadata,
    Column("execution_id", String(36), primary_key=True),
    Column("resource_id", String(20), primary_key=True),
    Column("association_id", String(36), nullable=False),
    Column("resource_type", String(32), nullable=False),
    Column("seq", Integer, nullable=False),  # the order targets are started in
    Column("status", String(16), nullable=False),
    Column("detailed_status", String(64), nullable=False),
    Column("last_execution_at", UtcDateTime()),
    Column("command_id", String(36)),  # the AWS-RefreshAssociation command that started it (OutputSource)
    ForeignKeyConstraint(["execution_id"], ["ssm_association_executions.execution_id"], ondelete="CASCADE"),
    # ListInstanceAssociations: a node's started targets.
    Index("ix_ssm_association_execution_targets_resource", "resource_id", "status"),
    # The scheduler: targets waiting for their node, or started and perhaps lost.
    Index("ix_ssm_association_execution_targets_status", "status"),
    # A node already waiting in an execution of the association is not added to the next one.
    Index("ix_ssm_association_execution_targets_association", "association_id", "status"),
)

instance_statuses = Table(
    "ssm_association_instance_statuses",
    metadata,
    Column("association_id", String(36), primary_key=True),
    Column("instance_id", String(20), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("association_version", Integer, nullable=False),
    Column("document_version", String(16), nullable=False),
    Column("execution_id", String(36)),
    Column("execution_date", UtcDateTime()),
    Column("status", String(16), nullable=False),
    Column("detailed_status", String(64), nullable=False),
    Column("execution_summary", String(512), nullable=False),
    Column("error_code", String(32), nullable=False),
    Column("output_url", String(2048)),
    ForeignKeyConstraint(["association_id"], ["ssm_associations.association_id"], ondelete="CASCADE"),
    Index("ix_ssm_association_instance_statuses_instance", "instance_id"),
)
