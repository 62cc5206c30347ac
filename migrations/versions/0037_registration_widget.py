"""The embeddable course-registration opt-in: each tenant's public key and embedding origins
(``registration_widgets``) and the launch tokens already used (``registration_used_tokens``). Tenant-owned:
row-level security on PostgreSQL.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
TABLES = ("registration_widgets", "registration_used_tokens")


def upgrade():
    op.create_table('registration_widgets',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('embed_origins', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_registration_widgets_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_registration_widgets'))
    )
    op.create_table('registration_used_tokens',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('jti', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                            name=op.f('fk_registration_used_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'jti', name=op.f('pk_registration_used_tokens'))
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                       f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
