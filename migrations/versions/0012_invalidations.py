"""Invalidations: an operator's decision taking a cluster of a tenant's commitments out of the counts, and each
commitment's pointer to the decision that invalidated it (so that it can be undone exactly).

The new table is tenant-owned and gets row-level security on PostgreSQL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"


def upgrade():
    op.create_table('invalidations',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('commitments', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.Column('undo_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_invalidations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_invalidations'))
    )
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invalidation_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_commitments_tenant_id_invalidation_id_invalidations'),
                                    'invalidations', ['tenant_id', 'invalidation_id'], ['tenant_id', 'id'])

    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE invalidations ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE invalidations FORCE ROW LEVEL SECURITY")
        op.execute("CREATE POLICY tenant_isolation ON invalidations "
                   f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade():
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_commitments_tenant_id_invalidation_id_invalidations'),
                                 type_='foreignkey')
        batch_op.drop_column('invalidation_id')
    # Dropping the table drops its policy with it.
    op.drop_table('invalidations')
