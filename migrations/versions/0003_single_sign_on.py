"""Single sign-on: each tenant's identity-provider connection, its email domains, SAML requests under way,
used assertions, unmatched unit names; members' SSO subject, unit and break-glass credentials.

The new tables are tenant-owned and get the same row-level security as the others on PostgreSQL.
Email domains, like hostnames, may be read before a tenant is known (home-realm discovery).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TENANT_TABLES = ("sso_email_domains", "sso_requests", "sso_unmapped_units", "sso_used_assertions", "sso_connections")
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    op.create_table('sso_email_domains',
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sso_email_domains_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_sso_email_domains'))
    )
    with op.batch_alter_table('sso_email_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_email_domains_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('sso_requests',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('next_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sso_requests_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'token', name=op.f('pk_sso_requests'))
    )
    op.create_table('sso_unmapped_units',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('times_seen', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sso_unmapped_units_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'value', name=op.f('pk_sso_unmapped_units'))
    )
    op.create_table('sso_used_assertions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('assertion_id', sa.String(length=255), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sso_used_assertions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'assertion_id', name=op.f('pk_sso_used_assertions'))
    )
    with op.batch_alter_table('sso_used_assertions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_used_assertions_expires_at'), ['expires_at'], unique=False)

    op.create_table('sso_connections',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('protocol', sa.Enum('oidc', 'saml', name='protocol', native_enum=False, length=24), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('oidc_issuer', sa.String(length=500), nullable=True),
    sa.Column('oidc_client_id', sa.String(length=255), nullable=True),
    sa.Column('oidc_client_secret', sa.Text(), nullable=True),
    sa.Column('oidc_scopes', sa.String(length=255), nullable=False),
    sa.Column('saml_idp_metadata_url', sa.String(length=500), nullable=True),
    sa.Column('saml_idp_metadata_xml', sa.Text(), nullable=True),
    sa.Column('saml_sp_certificate', sa.Text(), nullable=True),
    sa.Column('saml_sp_private_key', sa.Text(), nullable=True),
    sa.Column('claim_email', sa.String(length=255), nullable=False),
    sa.Column('claim_name', sa.String(length=255), nullable=False),
    sa.Column('claim_unit', sa.String(length=255), nullable=True),
    sa.Column('claim_groups', sa.String(length=255), nullable=False),
    sa.Column('admin_group', sa.String(length=255), nullable=True),
    sa.Column('allowed_domains', sa.JSON(), nullable=False),
    sa.Column('default_unit_id', sa.Uuid(), nullable=True),
    sa.Column('last_test', sa.JSON(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'default_unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_sso_connections_tenant_id_default_unit_id_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sso_connections_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_sso_connections'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('unit_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_members_tenant_id_sso_subject'), ['tenant_id', 'sso_subject'])
        batch_op.create_foreign_key(batch_op.f('fk_members_tenant_id_unit_id_units'), 'units', ['tenant_id', 'unit_id'], ['tenant_id', 'id'])

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('break_glass_enabled', sa.Boolean(), server_default='0', nullable=False))

    if _on_postgresql():
        for table in TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                       f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")
        op.execute("CREATE POLICY domain_lookup ON sso_email_domains FOR SELECT USING (true)")


def downgrade():
    # Dropping the tables drops their policies with them.
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('break_glass_enabled')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_members_tenant_id_unit_id_units'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_members_tenant_id_sso_subject'), type_='unique')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_sign_ins')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('unit_id')
        batch_op.drop_column('sso_subject')

    op.drop_table('sso_connections')
    with op.batch_alter_table('sso_used_assertions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_used_assertions_expires_at'))

    op.drop_table('sso_used_assertions')
    op.drop_table('sso_unmapped_units')
    op.drop_table('sso_requests')
    with op.batch_alter_table('sso_email_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_email_domains_tenant_id'))

    op.drop_table('sso_email_domains')
