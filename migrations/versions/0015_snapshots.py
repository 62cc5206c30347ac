"""Signed daily snapshots of the released counts, and every public key that signed one.

Global tables (no tenant_id): the app role may read and add rows, never change or remove them (migrations/env.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('snapshot_keys',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_snapshot_keys'))
    )
    op.create_table('snapshots',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=88), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['snapshot_keys.key_id'], name=op.f('fk_snapshots_key_id_snapshot_keys')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_snapshots'))
    )


def downgrade():
    # The published history goes with the tables: export it first (`flask snapshots export`) to keep it.
    op.drop_table('snapshots')
    op.drop_table('snapshot_keys')
