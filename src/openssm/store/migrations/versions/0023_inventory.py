"""inventory: items per node and type, their entries, node counts per name, custom types, DeleteInventory's records

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openssm.store.metadata import UtcDateTime

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_KEY = sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql')


def _scope() -> list[sa.Column[str]]:
    return [sa.Column('account_id', sa.String(length=12), nullable=False),
            sa.Column('region', sa.String(length=32), nullable=False),
            sa.Column('instance_id', sa.String(length=20), nullable=False),
            sa.Column('type_name', sa.String(length=100), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'ssm_inventory_items',
        *_scope(),
        sa.Column('schema_version', sa.String(length=16), nullable=False),
        sa.Column('capture_time', sa.String(length=20), nullable=False),
        sa.Column('content_hash', sa.String(length=256), nullable=True),
        sa.Column('context', sa.Text(), nullable=True),
        sa.Column('entry_count', sa.Integer(), nullable=False),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'instance_id', 'type_name',
                                name=op.f('pk_ssm_inventory_items')),
    )
    op.create_index('ix_ssm_inventory_items_type', 'ssm_inventory_items',
                    ['account_id', 'region', 'type_name', 'instance_id', 'updated_at'], unique=False)
    op.create_index('ix_ssm_inventory_items_updated_at', 'ssm_inventory_items', ['updated_at'], unique=False)
    op.create_table(
        'ssm_inventory_entries',
        *_scope(),
        sa.Column('ordinal', sa.Integer(), nullable=False),
        sa.Column('name', _KEY, nullable=True),
        sa.Column('version', _KEY, nullable=True),
        sa.Column('attributes', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'instance_id', 'type_name', 'ordinal',
                                name=op.f('pk_ssm_inventory_entries')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_ssm_inventory_entries_name', 'ssm_inventory_entries',
                    ['account_id', 'region', 'type_name', 'name', 'version', 'instance_id'], unique=False)
    op.create_table(
        'ssm_inventory_name_counts',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('type_name', sa.String(length=100), nullable=False),
        sa.Column('name', _KEY, nullable=False),
        sa.Column('nodes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'type_name', 'name',
                                name=op.f('pk_ssm_inventory_name_counts')),
    )
    op.create_table(
        'ssm_inventory_schemas',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('type_name', sa.String(length=100), nullable=False),
        sa.Column('version', sa.String(length=16), nullable=False),
        sa.Column('attributes', sa.Text(), nullable=False),
        sa.Column('disabled_version', sa.String(length=16), nullable=True),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('account_id', 'region', 'type_name', name=op.f('pk_ssm_inventory_schemas')),
    )
    op.create_table(
        'ssm_inventory_deletions',
        sa.Column('deletion_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('type_name', sa.String(length=100), nullable=False),
        sa.Column('schema_delete_option', sa.String(length=16), nullable=True),
        sa.Column('client_token', sa.String(length=64), nullable=True),
        sa.Column('started_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('status_message', sa.String(length=256), nullable=False),
        sa.Column('status_updated_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('deletion_id', name=op.f('pk_ssm_inventory_deletions')),
    )
    op.create_index('ix_ssm_inventory_deletions_account', 'ssm_inventory_deletions',
                    ['account_id', 'region', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_inventory_deletions_account', table_name='ssm_inventory_deletions')
    op.drop_table('ssm_inventory_deletions')
    op.drop_table('ssm_inventory_schemas')
    op.drop_table('ssm_inventory_name_counts')
    op.drop_index('ix_ssm_inventory_entries_name', table_name='ssm_inventory_entries')
    op.drop_table('ssm_inventory_entries')
    op.drop_index('ix_ssm_inventory_items_updated_at', table_name='ssm_inventory_items')
    op.drop_index('ix_ssm_inventory_items_type', table_name='ssm_inventory_items')
    op.drop_table('ssm_inventory_items')
