"""documents: SSM documents, their versions and who they are shared with (0006 was reserved for them and
stays empty, so databases that applied it get the tables here)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_PARENT = (['account_id', 'region', 'name'],
           ['ssm_documents.account_id', 'ssm_documents.region', 'ssm_documents.name'])


def upgrade() -> None:
    op.create_table('ssm_documents',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('document_type', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=200), nullable=False),
    sa.Column('created_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.Column('default_version', sa.Integer(), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'region', 'name', name=op.f('pk_ssm_documents'))
    )
    op.create_table('ssm_document_versions',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('version_name', sa.String(length=128), nullable=True),
    sa.Column('display_name', sa.String(length=1024), nullable=False),
    sa.Column('document_format', sa.String(length=8), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(*_PARENT, name=op.f('fk_ssm_document_versions_account_id_ssm_documents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'region', 'name', 'version', name=op.f('pk_ssm_document_versions'))
    )
    op.create_table('ssm_document_shares',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('shared_with', sa.String(length=12), nullable=False),
    sa.Column('shared_version', sa.String(length=16), nullable=False),
    sa.Column('created_at', openssm.store.metadata.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(*_PARENT, name=op.f('fk_ssm_document_shares_account_id_ssm_documents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'region', 'name', 'shared_with', name=op.f('pk_ssm_document_shares'))
    )


def downgrade() -> None:
    op.drop_table('ssm_document_shares')
    op.drop_table('ssm_document_versions')
    op.drop_table('ssm_documents')
