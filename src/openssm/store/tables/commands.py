"""Run Command: one row per command, one per (command, instance) invocation with its full output."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKeyConstraint, Index, Integer, LargeBinary, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

commands = Table(
    "ssm_commands",
    metadata,
    Column("command_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("region", String(32), nullable=False),
    Column("document_name", String(128), nullable=False),
    Column("document_version", String(16), nullable=False),
    Column("document_content", Text, nullable=False),
    Column("parameters", Text, nullable=False),
    Column("run_parameters", Text, nullable=False, server_default="{}"),
    Column("instance_ids", Text, nullable=False),
    Column("targets", Text, nullable=False),
    Column("comment", String(100), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("requested_by", String(2048), nullable=False),
    Column("timeout_seconds", Integer, nullable=False),
    Column("max_concurrency", String(7), nullable=False),
    Column("max_errors", String(7), nullable=False),
    Column("output_bucket", String(63), nullable=False),
    Column("output_prefix", String(500), nullable=False),
    Column("service_role", String(2048), nullable=False),
    Column("notification_config", Text, nullable=False, server_default="{}"),
    Column("cancelled", Boolean, nullable=False),
    # Not sent by then: DeliveryTimedOut (requested + TimeoutSeconds). Still running by then (ExpiresAfter:
    # that plus the steps' execution timeouts): DeliveryTimedOut too, as AWS's service marks them.
    Column("deliver_by", UtcDateTime(), index=True),
    Column("expires_at", UtcDateTime(), index=True),
)

invocations = Table(
    "ssm_command_invocations",
    metadata,
    Column("command_id", String(36), primary_key=True),
    Column("instance_id", String(20), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_details", String(32), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime()),
    Column("started_at", UtcDateTime()),
    Column("ended_at", UtcDateTime()),
    Column("response_code", Integer, nullable=False),
    Column("plugin_name", String(128), nullable=False),
    Column("stdout", Text, nullable=False),
    Column("stderr", Text, nullable=False),
    Column("plugins", Text, nullable=False, server_default="[]"),
    # "pending" while a command's OutputS3BucketName is owed this invocation's output, then "done"/"failed".
    Column("export_state", String(8), nullable=False, server_default=""),
    ForeignKeyConstraint(["command_id"], ["ssm_commands.command_id"], ondelete="CASCADE"),
    # Every open control channel asks "what is open for me?" every couple of seconds.
    Index("ix_ssm_command_invocations_instance_status", "instance_id", "status"),
    Index("ix_ssm_command_invocations_export_state", "export_state"),
    # Each server process reads every node's open work every couple of seconds (api/mgs.py StoreWatcher).
    Index("ix_ssm_command_invocations_status", "status"),
)

# The full output of each step, as its agent uploads it in pieces (the replies carry only AWS's cuts).
invocation_output = Table(
    "ssm_invocation_output",
    metadata,
    Column("command_id", String(36), primary_key=True),
    Column("instance_id", String(20), primary_key=True),
    Column("plugin", String(128), primary_key=True),
    Column("stream", String(8), primary_key=True),  # stdout | stderr
    Column("offset", Integer, primary_key=True),  # of the piece's first byte
    Column("data", LargeBinary, nullable=False),
    ForeignKeyConstraint(["command_id", "instance_id"], ["ssm_command_invocations.command_id",
                                                         "ssm_command_invocations.instance_id"], ondelete="CASCADE"),
)
