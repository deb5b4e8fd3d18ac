"""associations: State Manager's associations, versions, executions, execution targets and node statuses

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openssm.store.metadata import UtcDateTime

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def _to_association() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['association_id'], ['ssm_associations.association_id'], ondelete='CASCADE')


def upgrade() -> None:
    op.create_table(
        'ssm_associations',
        sa.Column('association_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('instance_id', sa.String(length=20), nullable=True),
        sa.Column('association_name', sa.String(length=128), nullable=True),
        sa.Column('association_version', sa.Integer(), nullable=False),
        sa.Column('schedule_expression', sa.String(length=256), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.Column('next_run_at', UtcDateTime(), nullable=True),
        sa.Column('last_execution_at', UtcDateTime(), nullable=True),
        sa.Column('last_successful_at', UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('association_id'),
    )
    op.create_index('ix_ssm_associations_account_region', 'ssm_associations',
                    ['account_id', 'region', 'created_at'], unique=False)
    op.create_index('ix_ssm_associations_next_run_at', 'ssm_associations', ['next_run_at'], unique=False)
    op.create_table(
        'ssm_association_versions',
        sa.Column('association_id', sa.String(length=36), nullable=False),
        sa.Column('association_version', sa.Integer(), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        _to_association(),
        sa.PrimaryKeyConstraint('association_id', 'association_version'),
    )
    op.create_table(
        'ssm_association_executions',
        sa.Column('execution_id', sa.String(length=36), nullable=False),
        sa.Column('association_id', sa.String(length=36), nullable=False),
        sa.Column('association_version', sa.Integer(), nullable=False),
        sa.Column('document_version', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('detailed_status', sa.String(length=32), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('last_execution_at', UtcDateTime(), nullable=True),
        _to_association(),
        sa.PrimaryKeyConstraint('execution_id'),
    )
    op.create_index('ix_ssm_association_executions_association', 'ssm_association_executions',
                    ['association_id', 'created_at'], unique=False)
    op.create_index('ix_ssm_association_executions_status', 'ssm_association_executions', ['status'],
                    unique=False)
    op.create_table(
        'ssm_association_execution_targets',
        sa.Column('execution_id', sa.String(length=36), nullable=False),
        sa.Column('resource_id', sa.String(length=20), nullable=False),
        sa.Column('association_id', sa.String(length=36), nullable=False),
        sa.Column('resource_type', sa.String(length=32), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('detailed_status', sa.String(length=64), nullable=False),
        sa.Column('last_execution_at', UtcDateTime(), nullable=True),
        sa.Column('command_id', sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(['execution_id'], ['ssm_association_executions.execution_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('execution_id', 'resource_id'),
    )
    op.create_index('ix_ssm_association_execution_targets_resource', 'ssm_association_execution_targets',
                    ['resource_id', 'status'], unique=False)
    op.create_index('ix_ssm_association_execution_targets_status', 'ssm_association_execution_targets',
                    ['status'], unique=False)
    op.create_index('ix_ssm_association_execution_targets_association', 'ssm_association_execution_targets',
                    ['association_id', 'status'], unique=False)
    op.create_table(
        'ssm_association_instance_statuses',
        sa.Column('association_id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=20), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('association_version', sa.Integer(), nullable=False),
        sa.Column('document_version', sa.String(length=16), nullable=False),
        sa.Column('execution_id', sa.String(length=36), nullable=True),
        sa.Column('execution_date', UtcDateTime(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('detailed_status', sa.String(length=64), nullable=False),
        sa.Column('execution_summary', sa.String(length=512), nullable=False),
        sa.Column('error_code', sa.String(length=32), nullable=False),
        sa.Column('output_url', sa.String(length=2048), nullable=True),
        _to_association(),
        sa.PrimaryKeyConstraint('association_id', 'instance_id'),
    )
    op.create_index('ix_ssm_association_instance_statuses_instance', 'ssm_association_instance_statuses',
                    ['instance_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_association_instance_statuses_instance', table_name='ssm_association_instance_statuses')
    op.drop_table('ssm_association_instance_statuses')
    op.drop_index('ix_ssm_association_execution_targets_association',
                  table_name='ssm_association_execution_targets')
    op.drop_index('ix_ssm_association_execution_targets_status', table_name='ssm_association_execution_targets')
    op.drop_index('ix_ssm_association_execution_targets_resource', table_name='ssm_association_execution_targets')
    op.drop_table('ssm_association_execution_targets')
    op.drop_index('ix_ssm_association_executions_status', table_name='ssm_association_executions')
    op.drop_index('ix_ssm_association_executions_association', table_name='ssm_association_executions')
    op.drop_table('ssm_association_executions')
    op.drop_table('ssm_association_versions')
    op.drop_index('ix_ssm_associations_next_run_at', table_name='ssm_associations')
    op.drop_index('ix_ssm_associations_account_region', table_name='ssm_associations')
    op.drop_table('ssm_associations')
