"""parameter labels in their own table, parameter expiry as a column, KMS key tags

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:10:00.000000
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

import openssm.store.metadata

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _expiry(policies: str) -> dt.datetime | None:
    """The Expiration policy's timestamp, as the service computed it when this revision was written."""
    try:
        for policy in json.loads(policies):
            if isinstance(policy, dict) and policy.get("Type") == "Expiration":
                stamp = dt.datetime.fromisoformat(str(policy["Attributes"]["Timestamp"]).replace("Z", "+00:00"))
                return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    except (ValueError, KeyError, TypeError):
        return None
    return None


def _labels() -> list[dict[str, object]]:
    rows = op.get_bind().execute(sa.text(
        "SELECT account_id, region, name, version, labels FROM ssm_parameter_versions WHERE labels != ''"))
    return [dict(account_id=r[0], region=r[1], name=r[2], version=r[3], label=label)
            for r in rows for label in r[4].split("\n") if label]


def _set_expiry() -> None:
    bind = op.get_bind()
    table = sa.table("ssm_parameters", sa.column("expires_at", openssm.store.metadata.UtcDateTime()),
                     sa.column("account_id"), sa.column("region"), sa.column("name"))
    for account_id, region, name, policies in bind.execute(sa.text(
            "SELECT account_id, region, name, policies FROM ssm_parameters WHERE policies IS NOT NULL")).fetchall():
        expiry = _expiry(policies)
        if expiry is not None:
            bind.execute(sa.update(table).where(table.c.account_id == account_id, table.c.region == region,
                                                table.c.name == name).values(expires_at=expiry))


def upgrade() -> None:
    # Order matters on SQLite: batch mode rebuilds ssm_parameter_versions, and dropping the old copy while
    # the labels table refers to it would cascade; so the labels are read first and written after.
    labels = _labels()
    with op.batch_alter_table('ssm_parameter_versions', schema=None) as batch_op:
        batch_op.drop_column('labels')
    op.create_table('kms_key_tags',
    sa.Column('key_id', sa.String(length=36), nullable=False),
    sa.Column('tag_key', sa.String(length=128), nullable=False),
    sa.Column('tag_value', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['kms_keys.key_id'], name=op.f('fk_kms_key_tags_key_id_kms_keys'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_id', 'tag_key', name=op.f('pk_kms_key_tags'))
    )
    op.create_table('ssm_parameter_labels',
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('region', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=2048), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id', 'region', 'name', 'version'],
                            ['ssm_parameter_versions.account_id', 'ssm_parameter_versions.region',
                             'ssm_parameter_versions.name', 'ssm_parameter_versions.version'],
                            name=op.f('fk_ssm_parameter_labels_account_id_ssm_parameter_versions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'region', 'name', 'label', name=op.f('pk_ssm_parameter_labels'))
    )
    if labels:
        op.get_bind().execute(sa.text("INSERT INTO ssm_parameter_labels (account_id, region, name, label, version) "
                                      "VALUES (:account_id, :region, :name, :label, :version)"), labels)
    # A plain ADD COLUMN: rebuilding ssm_parameters would cascade into its versions.
    op.add_column('ssm_parameters', sa.Column('expires_at', openssm.store.metadata.UtcDateTime(timezone=True),
                                              nullable=True))
    _set_expiry()


def downgrade() -> None:
    bind = op.get_bind()
    grouped: dict[tuple[str, str, str, int], list[str]] = {}
    for account_id, region, name, label, version in bind.execute(sa.text(
            "SELECT account_id, region, name, label, version FROM ssm_parameter_labels")).fetchall():
        grouped.setdefault((account_id, region, name, version), []).append(label)
    op.drop_table('ssm_parameter_labels')
    op.drop_table('kms_key_tags')
    op.add_column('ssm_parameter_versions', sa.Column('labels', sa.TEXT(), nullable=False, server_default=''))
    for (account_id, region, name, version), names in grouped.items():
        bind.execute(sa.text("UPDATE ssm_parameter_versions SET labels = :labels WHERE account_id = :a AND "
                             "region = :r AND name = :n AND version = :v"),
                     dict(labels="\n".join(names), a=account_id, r=region, n=name, v=version))
    op.drop_column('ssm_parameters', 'expires_at')
