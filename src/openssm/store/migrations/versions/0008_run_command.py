"""run command: commands and their invocations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ssm_commands',
    sa.Column('command_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('document_name', sa.String(length=128), nullable=False),
    sa.Column('document_version', sa.String(length=16), nullable=False),
    sa.Column('document_content', sa.Text(), nullable=False),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.Column('instance_ids', sa.Text(), nullable=False),
    sa.Column('targets', sa.Text(), nullable=False),
    sa.Column('comment', sa.String(length=100), nullable=False),
    sa.Column('requested_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=2048), nullable=False),
    sa.Column('timeout_seconds', sa.Integer(), nullable=False),
    sa.Column('max_concurrency', sa.String(length=7), nullable=False),
    sa.Column('max_errors', sa.String(length=7), nullable=False),
    sa.Column('output_bucket', sa.String(length=63), nullable=False),
    sa.Column('output_prefix', sa.String(length=500), nullable=False),
    sa.Column('service_role', sa.String(length=2048), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('command_id', name=op.f('pk_ssm_commands'))
    )
    op.create_index(op.f('ix_ssm_commands_account_id'), 'ssm_commands', ['account_id'], unique=False)
    op.create_table('ssm_command_invocations',
    sa.Column('command_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_details', sa.String(length=32), nullable=False),
    sa.Column('requested_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True),
    sa.Column('started_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True),
    sa.Column('response_code', sa.Integer(), nullable=False),
    sa.Column('plugin_name', sa.String(length=128), nullable=False),
    sa.Column('stdout', sa.Text(), nullable=False),
    sa.Column('stderr', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['command_id'], ['ssm_commands.command_id'],
                            name=op.f('fk_ssm_command_invocations_command_id_ssm_commands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('command_id', 'instance_id', name=op.f('pk_ssm_command_invocations'))
    )


def downgrade() -> None:
    op.drop_table('ssm_command_invocations')
    op.drop_index(op.f('ix_ssm_commands_account_id'), table_name='ssm_commands')
    op.drop_table('ssm_commands')
