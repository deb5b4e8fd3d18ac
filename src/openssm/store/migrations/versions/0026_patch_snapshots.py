"""deployable patch snapshots handed to nodes

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openssm.store.metadata import UtcDateTime

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ssm_patch_snapshots',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('snapshot_id', sa.String(length=36), nullable=False),
        sa.Column('operating_system', sa.String(length=32), nullable=False),
        sa.Column('patch_group', sa.String(length=256), nullable=False),
        sa.Column('override_digest', sa.String(length=64), nullable=False),
        sa.Column('baseline_id', sa.String(length=128), nullable=False),
        sa.Column('baseline', sa.Text(), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'snapshot_id', 'operating_system', 'patch_group',
                                'override_digest'),
    )
    op.create_index('ix_ssm_patch_snapshots_created_at', 'ssm_patch_snapshots',
                    ['account_id', 'region', 'created_at'], unique=False)
    op.create_table(
        'ssm_patch_snapshot_nodes',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('snapshot_id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=20), nullable=False),
        sa.Column('operating_system', sa.String(length=32), nullable=False),
        sa.Column('patch_group', sa.String(length=256), nullable=False),
        sa.Column('override_digest', sa.String(length=64), nullable=False),
        sa.Column('product', sa.String(length=128), nullable=False),
        sa.Column('requested_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'snapshot_id', 'instance_id'),
    )
    op.create_index('ix_ssm_patch_snapshot_nodes_requested_at', 'ssm_patch_snapshot_nodes',
                    ['account_id', 'region', 'requested_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_patch_snapshot_nodes_requested_at', table_name='ssm_patch_snapshot_nodes')
    op.drop_table('ssm_patch_snapshot_nodes')
    op.drop_index('ix_ssm_patch_snapshots_created_at', table_name='ssm_patch_snapshots')
    op.drop_table('ssm_patch_snapshots')
