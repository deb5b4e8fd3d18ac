"""command deadlines: when a command's unsent invocations time out (deliver_by) and when its unfinished ones
do (expires_at, AWS's ExpiresAfter); existing commands get the default hour of execution

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ssm_commands') as batch:
        batch.add_column(sa.Column('deliver_by', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('expires_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=True))
        batch.create_index('ix_ssm_commands_deliver_by', ['deliver_by'], unique=False)
        batch.create_index('ix_ssm_commands_expires_at', ['expires_at'], unique=False)
    table = sa.table('ssm_commands', sa.column('command_id', sa.String),
                     sa.column('requested_at', openssm.store.metadata.UtcDateTime(timezone=True)),
                     sa.column('timeout_seconds', sa.Integer),
                     sa.column('deliver_by', openssm.store.metadata.UtcDateTime(timezone=True)),
                     sa.column('expires_at', openssm.store.metadata.UtcDateTime(timezone=True)))
    conn = op.get_bind()
    for row in conn.execute(sa.select(table.c.command_id, table.c.requested_at, table.c.timeout_seconds)).all():
        deliver_by = row.requested_at + dt.timedelta(seconds=row.timeout_seconds)
        conn.execute(sa.update(table).where(table.c.command_id == row.command_id).values(
            deliver_by=deliver_by, expires_at=deliver_by + dt.timedelta(hours=1)))


def downgrade() -> None:
    with op.batch_alter_table('ssm_commands') as batch:
        batch.drop_index('ix_ssm_commands_expires_at')
        batch.drop_index('ix_ssm_commands_deliver_by')
        batch.drop_column('expires_at')
        batch.drop_column('deliver_by')
