"""patch baselines, the default baseline per operating system, patch groups

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openssm.store.metadata import UtcDateTime

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ssm_patch_baselines',
        sa.Column('baseline_id', sa.String(length=20), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('operating_system', sa.String(length=32), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('client_token', sa.String(length=64), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('modified_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('baseline_id'),
    )
    op.create_index('ix_ssm_patch_baselines_account_region', 'ssm_patch_baselines',
                    ['account_id', 'region', 'created_at'], unique=False)
    op.create_table(
        'ssm_default_patch_baselines',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('operating_system', sa.String(length=32), nullable=False),
        sa.Column('baseline_id', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'operating_system'),
    )
    op.create_table(
        'ssm_patch_groups',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('patch_group', sa.String(length=256), nullable=False),
        sa.Column('operating_system', sa.String(length=32), nullable=False),
        sa.Column('baseline_id', sa.String(length=128), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'patch_group', 'operating_system'),
    )
    op.create_index('ix_ssm_patch_groups_baseline', 'ssm_patch_groups', ['baseline_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_patch_groups_baseline', table_name='ssm_patch_groups')
    op.drop_table('ssm_patch_groups')
    op.drop_table('ssm_default_patch_baselines')
    op.drop_index('ix_ssm_patch_baselines_account_region', table_name='ssm_patch_baselines')
    op.drop_table('ssm_patch_baselines')
