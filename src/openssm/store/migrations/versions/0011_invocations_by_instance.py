"""invocations by instance: the index the control channels' poll reads

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 16:15:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ssm_command_invocations_instance_status', 'ssm_command_invocations',
                    ['instance_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_command_invocations_instance_status', table_name='ssm_command_invocations')
