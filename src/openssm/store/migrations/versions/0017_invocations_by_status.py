"""invocations by status: one read of all open work per server process replaces a read per control channel

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ssm_command_invocations_status', 'ssm_command_invocations', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_command_invocations_status', table_name='ssm_command_invocations')
