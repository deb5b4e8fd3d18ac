"""node key rotation: when each managed instance's public key was set (backfilled with its registration time)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added nullable, filled, then made NOT NULL: existing nodes' keys date from their registration.
    with op.batch_alter_table('ssm_managed_instances') as batch:
        batch.add_column(sa.Column('key_set_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True))
    op.execute(sa.text('UPDATE ssm_managed_instances SET key_set_at = registered_at'))
    with op.batch_alter_table('ssm_managed_instances') as batch:
        batch.alter_column('key_set_at', existing_type=openssm.store.metadata.UtcDateTime(timezone=True),
                           nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('ssm_managed_instances') as batch:
        batch.drop_column('key_set_at')
