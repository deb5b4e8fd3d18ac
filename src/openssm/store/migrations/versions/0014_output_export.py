"""output export: which invocations still owe their output to the command's S3 bucket; commands' notification
configuration

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ssm_command_invocations') as batch:
        batch.add_column(sa.Column('export_state', sa.String(length=8), nullable=False, server_default=''))
        batch.create_index('ix_ssm_command_invocations_export_state', ['export_state'], unique=False)
    with op.batch_alter_table('ssm_commands') as batch:
        batch.add_column(sa.Column('notification_config', sa.Text(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('ssm_commands') as batch:
        batch.drop_column('notification_config')
    with op.batch_alter_table('ssm_command_invocations') as batch:
        batch.drop_index('ix_ssm_command_invocations_export_state')
        batch.drop_column('export_state')
