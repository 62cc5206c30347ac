"""Giving: gifts to UN Women confirmed by Stripe, per tenant they came through, and tenants' match pledges.

Both tables are tenant-owned and get row-level security on PostgreSQL.

Revision ID: 0044
Revises: 0041_billing
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0044'
down_revision = '0041_billing'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
TABLES = ("gifts", "match_pledges")


def upgrade():
    op.create_table('gifts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('monthly', sa.Boolean(), nullable=False),
    sa.Column('donor_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_gifts_amount_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_gifts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_gifts')),
    sa.UniqueConstraint('tenant_id', 'reference', name=op.f('uq_gifts_tenant_id_reference'))
    )
    op.create_table('match_pledges',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('cap', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=True),
    sa.CheckConstraint('cap > 0', name=op.f('ck_match_pledges_cap_positive')),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_match_pledges_amount_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_match_pledges_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_match_pledges'))
    )

    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                       f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade():
    # Dropping the tables drops their policies with them.
    op.drop_table('match_pledges')
    op.drop_table('gifts')
