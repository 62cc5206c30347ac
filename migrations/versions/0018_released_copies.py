"""Released copies: each site's breakdowns as last released, replaced only in steps of k people (core/rollup/steps.py).

- ``tenant_released_tallies`` / ``global_released_tallies``: the figures of every key as released.
- ``tenant_releases`` / ``global_releases``: how many copies each site has released, and when the last one was.

The tenant tables get row-level security on PostgreSQL; the app role reads and replaces the global ones
(migrations/env.py). Nothing is released yet after upgrading: each site's first read releases its copy.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
TENANT_TABLES = ("tenant_released_tallies", "tenant_releases")


def _figures():
    return [sa.Column('dimension', sa.String(length=16), nullable=False),
            sa.Column('key', sa.String(length=64), nullable=False),
            sa.Column('total', sa.Integer(), nullable=False),
            sa.Column('men', sa.Integer(), nullable=False),
            sa.Column('verified', sa.Integer(), nullable=False),
            sa.Column('verified_men', sa.Integer(), nullable=False)]


def _mark():
    return [sa.Column('number', sa.Integer(), nullable=False),
            sa.Column('released_at', sa.DateTime(timezone=True), nullable=False)]


def upgrade():
    op.create_table('tenant_released_tallies',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    *_figures(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_released_tallies_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'dimension', 'key', name=op.f('pk_tenant_released_tallies'))
    )
    op.create_table('global_released_tallies',
    *_figures(),
    sa.PrimaryKeyConstraint('dimension', 'key', name=op.f('pk_global_released_tallies'))
    )
    op.create_table('tenant_releases',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    *_mark(),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_releases_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tenant_releases'))
    )
    op.create_table('global_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    *_mark(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_global_releases'))
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                       f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade():
    # Dropping the tables drops their policies with them.
    op.drop_table('global_releases')
    op.drop_table('tenant_releases')
    op.drop_table('global_released_tallies')
    op.drop_table('tenant_released_tallies')
