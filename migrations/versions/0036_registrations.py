"""Course registration: the students each term's registration brought in (``registrations``), so that a batch
sent again changes nothing. Tenant-owned: row-level security on PostgreSQL.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"


def upgrade():
    op.create_table('registrations',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=40), nullable=False),
    sa.Column('student_id', sa.String(length=100), nullable=False),
    sa.Column('commitment_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_registrations_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'term', 'student_id', name=op.f('pk_registrations'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE registrations ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE registrations FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON registrations "
                   f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade():
    op.drop_table('registrations')
