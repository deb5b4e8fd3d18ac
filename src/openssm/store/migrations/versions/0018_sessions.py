"""sessions: Session Manager's sessions, active and past

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ssm_sessions',
        sa.Column('session_id', sa.String(length=96), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('target', sa.String(length=400), nullable=False),
        sa.Column('document_name', sa.String(length=128), nullable=False),
        sa.Column('parameters', sa.Text(), nullable=False),
        sa.Column('owner', sa.String(length=2048), nullable=False),
        sa.Column('reason', sa.String(length=256), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('details', sa.String(length=1024), nullable=False),
        sa.Column('started_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True),
        sa.Column('max_duration_minutes', sa.Integer(), nullable=True),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('session_id'),
    )
    op.create_index('ix_ssm_sessions_account_status', 'ssm_sessions',
                    ['account_id', 'region', 'status', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_sessions_account_status', table_name='ssm_sessions')
    op.drop_table('ssm_sessions')
