"""service settings: SSM's per-account, per-region settings that were customized

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ssm_service_settings',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('setting_id', sa.String(length=1000), nullable=False),
    sa.Column('value', sa.String(length=4096), nullable=False),
    sa.Column('last_modified', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_modified_user', sa.String(length=2048), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'region', 'setting_id', name=op.f('pk_ssm_service_settings'))
    )


def downgrade() -> None:
    op.drop_table('ssm_service_settings')
