"""maintenance windows, their targets, tasks and executions

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openssm.store.metadata import UtcDateTime

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def _to_window() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['window_id'], ['ssm_maintenance_windows.window_id'], ondelete='CASCADE')


def upgrade() -> None:
    op.create_table(
        'ssm_maintenance_windows',
        sa.Column('window_id', sa.String(length=20), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('client_token', sa.String(length=64), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.Column('next_run_at', UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('window_id'),
    )
    op.create_index('ix_ssm_maintenance_windows_account_region', 'ssm_maintenance_windows',
                    ['account_id', 'region', 'created_at'], unique=False)
    op.create_index('ix_ssm_maintenance_windows_next_run_at', 'ssm_maintenance_windows', ['next_run_at'],
                    unique=False)
    op.create_table(
        'ssm_maintenance_window_targets',
        sa.Column('window_target_id', sa.String(length=36), nullable=False),
        sa.Column('window_id', sa.String(length=20), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('client_token', sa.String(length=64), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        _to_window(),
        sa.PrimaryKeyConstraint('window_target_id'),
    )
    op.create_index('ix_ssm_maintenance_window_targets_window', 'ssm_maintenance_window_targets',
                    ['window_id', 'created_at'], unique=False)
    op.create_table(
        'ssm_maintenance_window_tasks',
        sa.Column('window_task_id', sa.String(length=36), nullable=False),
        sa.Column('window_id', sa.String(length=20), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('client_token', sa.String(length=64), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        _to_window(),
        sa.PrimaryKeyConstraint('window_task_id'),
    )
    op.create_index('ix_ssm_maintenance_window_tasks_window', 'ssm_maintenance_window_tasks',
                    ['window_id', 'priority'], unique=False)
    op.create_table(
        'ssm_maintenance_window_executions',
        sa.Column('window_execution_id', sa.String(length=36), nullable=False),
        sa.Column('window_id', sa.String(length=20), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('status_details', sa.String(length=250), nullable=False),
        sa.Column('scheduled_at', UtcDateTime(), nullable=False),
        sa.Column('start_time', UtcDateTime(), nullable=False),
        sa.Column('end_time', UtcDateTime(), nullable=True),
        sa.Column('cutoff_at', UtcDateTime(), nullable=False),
        sa.Column('ends_at', UtcDateTime(), nullable=False),
        _to_window(),
        sa.PrimaryKeyConstraint('window_execution_id'),
    )
    op.create_index('ix_ssm_maintenance_window_executions_window', 'ssm_maintenance_window_executions',
                    ['window_id', 'start_time'], unique=False)
    op.create_index('ix_ssm_maintenance_window_executions_status', 'ssm_maintenance_window_executions',
                    ['status'], unique=False)
    op.create_table(
        'ssm_maintenance_window_execution_tasks',
        sa.Column('task_execution_id', sa.String(length=36), nullable=False),
        sa.Column('window_execution_id', sa.String(length=36), nullable=False),
        sa.Column('window_task_id', sa.String(length=36), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('status_details', sa.String(length=250), nullable=False),
        sa.Column('start_time', UtcDateTime(), nullable=True),
        sa.Column('end_time', UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['window_execution_id'], ['ssm_maintenance_window_executions.window_execution_id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_execution_id'),
    )
    op.create_index('ix_ssm_maintenance_window_execution_tasks_execution', 'ssm_maintenance_window_execution_tasks',
                    ['window_execution_id', 'priority'], unique=False)
    op.create_table(
        'ssm_maintenance_window_task_invocations',
        sa.Column('invocation_id', sa.String(length=36), nullable=False),
        sa.Column('task_execution_id', sa.String(length=36), nullable=False),
        sa.Column('window_execution_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.String(length=20), nullable=False),
        sa.Column('window_target_id', sa.String(length=36), nullable=True),
        sa.Column('owner_information', sa.String(length=128), nullable=True),
        sa.Column('command_id', sa.String(length=36), nullable=True),
        sa.Column('parameters', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('status_details', sa.String(length=250), nullable=False),
        sa.Column('start_time', UtcDateTime(), nullable=True),
        sa.Column('end_time', UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['task_execution_id'], ['ssm_maintenance_window_execution_tasks.task_execution_id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('invocation_id'),
    )
    op.create_index('ix_ssm_maintenance_window_task_invocations_task', 'ssm_maintenance_window_task_invocations',
                    ['task_execution_id', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ssm_maintenance_window_task_invocations_task',
                  table_name='ssm_maintenance_window_task_invocations')
    op.drop_table('ssm_maintenance_window_task_invocations')
    op.drop_index('ix_ssm_maintenance_window_execution_tasks_execution',
                  table_name='ssm_maintenance_window_execution_tasks')
    op.drop_table('ssm_maintenance_window_execution_tasks')
    op.drop_index('ix_ssm_maintenance_window_executions_status', table_name='ssm_maintenance_window_executions')
    op.drop_index('ix_ssm_maintenance_window_executions_window', table_name='ssm_maintenance_window_executions')
    op.drop_table('ssm_maintenance_window_executions')
    op.drop_index('ix_ssm_maintenance_window_tasks_window', table_name='ssm_maintenance_window_tasks')
    op.drop_table('ssm_maintenance_window_tasks')
    op.drop_index('ix_ssm_maintenance_window_targets_window', table_name='ssm_maintenance_window_targets')
    op.drop_table('ssm_maintenance_window_targets')
    op.drop_index('ix_ssm_maintenance_windows_next_run_at', table_name='ssm_maintenance_windows')
    op.drop_index('ix_ssm_maintenance_windows_account_region', table_name='ssm_maintenance_windows')
    op.drop_table('ssm_maintenance_windows')
