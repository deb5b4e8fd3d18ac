"""managed instances: when the service cut a node off (its Default Host Management credentials revoked)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openssm.store.metadata import UtcDateTime

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ssm_managed_instances') as batch:
        batch.add_column(sa.Column('cut_off_at', UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ssm_managed_instances') as batch:
        batch.drop_column('cut_off_at')
