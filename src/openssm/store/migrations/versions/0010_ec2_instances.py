"""ec2 instances: EC2-style instances declared by the operator, with identity key and instance profile

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 15:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ec2_instances',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('instance_id', sa.String(length=19), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('instance_profile', sa.String(length=128), nullable=True),
    sa.Column('declared_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'region', 'instance_id', name=op.f('pk_ec2_instances'))
    )


def downgrade() -> None:
    op.drop_table('ec2_instances')
