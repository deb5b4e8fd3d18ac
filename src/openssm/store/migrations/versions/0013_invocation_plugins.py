"""invocation plugins: each step's result of an invocation, its full output as the agent uploads it, and the
parameter values a command's agents run with ({{ssm:…}} resolved) kept apart from those it was sent with

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ssm_command_invocations') as batch:
        batch.add_column(sa.Column('plugins', sa.Text(), nullable=False, server_default='[]'))
    with op.batch_alter_table('ssm_commands') as batch:
        batch.add_column(sa.Column('run_parameters', sa.Text(), nullable=False, server_default='{}'))
    op.create_table('ssm_invocation_output',
    sa.Column('command_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.String(length=20), nullable=False),
    sa.Column('plugin', sa.String(length=128), nullable=False),
    sa.Column('stream', sa.String(length=8), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['command_id', 'instance_id'], ['ssm_command_invocations.command_id',
                                                            'ssm_command_invocations.instance_id'],
                            name=op.f('fk_ssm_invocation_output_command_id_ssm_command_invocations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('command_id', 'instance_id', 'plugin', 'stream', 'offset',
                            name=op.f('pk_ssm_invocation_output'))
    )


def downgrade() -> None:
    op.drop_table('ssm_invocation_output')
    with op.batch_alter_table('ssm_commands') as batch:
        batch.drop_column('run_parameters')
    with op.batch_alter_table('ssm_command_invocations') as batch:
        batch.drop_column('plugins')
