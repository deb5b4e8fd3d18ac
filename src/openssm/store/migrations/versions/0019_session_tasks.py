"""session tasks: what the node is sent to start a session, and who may run it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ssm_sessions') as batch:
        batch.add_column(sa.Column('task_content', sa.Text(), nullable=False, server_default='{}'))
        batch.add_column(sa.Column('run_as_user', sa.String(length=32), nullable=False, server_default=''))
        batch.add_column(sa.Column('session_type', sa.String(length=32), nullable=False, server_default=''))
    op.create_index('ix_ssm_sessions_target_status', 'ssm_sessions', ['target', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_sessions_target_status', table_name='ssm_sessions')
    with op.batch_alter_table('ssm_sessions') as batch:
        batch.drop_column('session_type')
        batch.drop_column('run_as_user')
        batch.drop_column('task_content')
