"""The operator console: partner applications, operators, each tenant's standing (country, sponsorship) and the
operators' global audit log.

``partner_applications``, ``operators`` and ``operator_audit`` are global tables (no tenant_id, no row-level
security): they are read and written on the global host by the operators, under no tenant, so a policy on
``app.tenant_id`` would only hide every row. What the app role may do on each is listed in migrations/env.py (the
audit log: add and read, never change; an application: only its decision changes). ``partner_records`` holds one
row per tenant: like ``tenant_hostnames``, row-level security is forced on it, every row may be read (the console
lists them all) and a row is written only as its tenant. The app role may also change ``tenants.status``
(suspend, reactivate), still only on the row of the tenant it acts as (policy ``tenants_own_row``, migration 0008).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('operators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('totp_secret', sa.Text(), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('failed_sign_ins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operators')),
    sa.UniqueConstraint('email', name=op.f('uq_operators_email'))
    )
    op.create_table('partner_applications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=False),
    sa.Column('subdomain', sa.String(length=63), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=320), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_applications'))
    )
    op.create_index('ix_partner_applications_status_created_at', 'partner_applications', ['status', 'created_at'])
    op.create_index(op.f('ix_partner_applications_subdomain'), 'partner_applications', ['subdomain'])
    op.create_table('partner_records',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('website', sa.String(length=500), nullable=True),
    sa.Column('sponsored', sa.Boolean(), nullable=False),
    sa.Column('sponsored_reason', sa.Text(), nullable=True),
    sa.Column('suspended_reason', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_partner_records_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_partner_records'))
    )
    op.create_index(op.f('ix_partner_records_country_code'), 'partner_records', ['country_code'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE partner_records ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE partner_records FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON partner_records "
                   f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")
        op.execute("CREATE POLICY standing_read ON partner_records FOR SELECT USING (true)")
    op.create_table('operator_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator_email', sa.String(length=320), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_audit'))
    )
    op.create_index(op.f('ix_operator_audit_at'), 'operator_audit', ['at'])


def downgrade():
    # The operators' history goes with its table; the tenants it suspended stay as they are.
    op.drop_index(op.f('ix_operator_audit_at'), table_name='operator_audit')
    op.drop_table('operator_audit')
    op.drop_index(op.f('ix_partner_records_country_code'), table_name='partner_records')
    op.drop_table('partner_records')
    op.drop_index(op.f('ix_partner_applications_subdomain'), table_name='partner_applications')
    op.drop_index('ix_partner_applications_status_created_at', table_name='partner_applications')
    op.drop_table('partner_applications')
    op.drop_table('operators')
