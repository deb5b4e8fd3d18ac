"""compliance: items per resource and compliance type, and each upload's execution summary

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openssm.store.metadata import UtcDateTime

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_KEY = ('account_id', 'region', 'resource_type', 'resource_id', 'compliance_type')


def _scope() -> list[sa.Column[str]]:
    return [sa.Column('account_id', sa.String(length=12), nullable=False),
            sa.Column('region', sa.String(length=32), nullable=False),
            sa.Column('resource_type', sa.String(length=50), nullable=False),
            sa.Column('resource_id', sa.String(length=100), nullable=False),
            sa.Column('compliance_type', sa.String(length=100), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'ssm_compliance_uploads', *_scope(),
        sa.Column('execution_time', UtcDateTime(), nullable=False),
        sa.Column('execution_id', sa.String(length=100), nullable=True),
        sa.Column('execution_type', sa.String(length=50), nullable=True),
        sa.Column('content_hash', sa.String(length=256), nullable=True),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(*_KEY))
    op.create_table(
        'ssm_compliance_items', *_scope(),
        sa.Column('item_key', sa.String(length=128), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=True),
        sa.Column('title', sa.String(length=500), nullable=True),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('execution_time', UtcDateTime(), nullable=False),
        sa.Column('execution_id', sa.String(length=100), nullable=True),
        sa.Column('execution_type', sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint(*_KEY, 'item_key'))
    op.create_index('ix_ssm_compliance_items_type', 'ssm_compliance_items',
                    ['account_id', 'region', 'compliance_type', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_compliance_items_type', table_name='ssm_compliance_items')
    op.drop_table('ssm_compliance_items')
    op.drop_table('ssm_compliance_uploads')
