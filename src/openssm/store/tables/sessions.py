"""Session Manager's sessions: one row per StartSession, kept after the session ends for DescribeSessions'
History (and the audit of who reached which node, when, and for how long)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from openssm.store.metadata import UtcDateTime, metadata

sessions = Table(
    "ssm_sessions",
    metadata,
    Column("session_id", String(96), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("region", String(32), nullable=False),
    Column("target", String(400), nullable=False),
    Column("document_name", String(128), nullable=False),
    Column("parameters", Text, nullable=False),  # JSON, as StartSession was given them
    Column("owner", String(2048), nullable=False),  # the ARN of who started it
    Column("reason", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("details", String(1024), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Column("max_duration_minutes", Integer),  # from the document's preferences; None: no limit
    Column("token_digest", String(64), nullable=False),  # SHA-256 of the data-channel token now valid
    # The AgentTaskPayload the node is sent (document content, resolved parameters), as JSON.
    Column("task_content", Text, nullable=False, server_default="{}"),
    Column("run_as_user", String(32), nullable=False, server_default=""),
    Column("session_type", String(32), nullable=False, server_default=""),  # the document's sessionType
    # DescribeSessions lists an account's Active or History sessions, newest first.
    Index("ix_ssm_sessions_account_status", "account_id", "region", "status", "started_at"),
    # A node's control channel looks for the sessions it has to start.
    Index("ix_ssm_sessions_target_status", "target", "status"),
)
