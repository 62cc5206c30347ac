"""LTI 1.3: the registered learning platforms (``lti_platforms``, ``lti_deployments``), the courses and their units
(``lti_courses``), the tool's key (``lti_tool_keys``), used nonces (``lti_used_nonces``) and refused launches
(``lti_problems``). Tenant-owned: row-level security on PostgreSQL.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
TABLES = ("lti_platforms", "lti_deployments", "lti_courses", "lti_tool_keys", "lti_used_nonces", "lti_problems")


def _tenant(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'),
                                   ondelete='CASCADE')


def upgrade():
    op.create_table('lti_platforms',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('key_set_url', sa.String(length=1000), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1000), nullable=False),
    sa.Column('auth_token_url', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _tenant('lti_platforms'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_lti_platforms'))
    )
    op.create_table('lti_deployments',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Uuid(), nullable=False),
    sa.Column('deployment_id', sa.String(length=200), nullable=False),
    _tenant('lti_deployments'),
    sa.PrimaryKeyConstraint('tenant_id', 'platform_id', 'deployment_id', name=op.f('pk_lti_deployments'))
    )
    op.create_table('lti_courses',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Uuid(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    _tenant('lti_courses'),
    sa.PrimaryKeyConstraint('tenant_id', 'platform_id', 'context_id', name=op.f('pk_lti_courses'))
    )
    op.create_table('lti_tool_keys',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _tenant('lti_tool_keys'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_lti_tool_keys'))
    )
    op.create_table('lti_used_nonces',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    _tenant('lti_used_nonces'),
    sa.PrimaryKeyConstraint('tenant_id', 'nonce', name=op.f('pk_lti_used_nonces'))
    )
    op.create_table('lti_problems',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _tenant('lti_problems'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_lti_problems'))
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
