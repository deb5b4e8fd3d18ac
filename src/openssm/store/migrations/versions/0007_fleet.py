"""fleet: hybrid activations, managed instances, and the instance behind a role session

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ssm_activations',
    sa.Column('activation_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('iam_role', sa.String(length=1024), nullable=False),
    sa.Column('registration_limit', sa.Integer(), nullable=False),
    sa.Column('registrations_count', sa.Integer(), nullable=False),
    sa.Column('default_instance_name', sa.String(length=256), nullable=True),
    sa.Column('description', sa.String(length=256), nullable=True),
    sa.Column('created_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('activation_id', name=op.f('pk_ssm_activations'))
    )
    op.create_index(op.f('ix_ssm_activations_account_id'), 'ssm_activations', ['account_id'], unique=False)
    op.create_table('ssm_managed_instances',
    sa.Column('instance_id', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('activation_id', sa.String(length=36), nullable=True),
    sa.Column('iam_role', sa.String(length=1024), nullable=False),
    sa.Column('fingerprint', sa.String(length=256), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('registered_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.Column('deregistered', sa.Boolean(), nullable=False),
    sa.Column('last_ping', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True),
    sa.Column('agent_name', sa.String(length=256), nullable=True),
    sa.Column('agent_version', sa.String(length=256), nullable=True),
    sa.Column('agent_status', sa.String(length=256), nullable=True),
    sa.Column('platform_type', sa.String(length=32), nullable=True),
    sa.Column('platform_name', sa.String(length=256), nullable=True),
    sa.Column('platform_version', sa.String(length=256), nullable=True),
    sa.Column('ip_address', sa.String(length=64), nullable=True),
    sa.Column('computer_name', sa.String(length=256), nullable=True),
    sa.Column('connection_channel', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_ssm_managed_instances')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_ssm_managed_instances_fingerprint'))
    )
    op.create_index(op.f('ix_ssm_managed_instances_account_id'), 'ssm_managed_instances', ['account_id'],
                    unique=False)
    with op.batch_alter_table('sts_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance_id', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sts_sessions', schema=None) as batch_op:
        batch_op.drop_column('instance_id')
    op.drop_index(op.f('ix_ssm_managed_instances_account_id'), table_name='ssm_managed_instances')
    op.drop_table('ssm_managed_instances')
    op.drop_index(op.f('ix_ssm_activations_account_id'), table_name='ssm_activations')
    op.drop_table('ssm_activations')
