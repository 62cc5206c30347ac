"""Foundation: tenants, hostnames, units, members, commitments, targets and the roll-up.

On PostgreSQL every table with a ``tenant_id`` gets row-level security, enabled and forced (the
owner is held to it too), with a policy that matches ``app.tenant_id`` as set per transaction by the
app, and matches nothing when it is unset. Tenant hostnames may be read by anyone: the host lookup
needs them before any tenant is known, and they are public DNS names anyway.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


TENANT_TABLES = ("tenant_hostnames", "tenant_texts", "units", "members", "commitments", "targets", "tenant_tallies")
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _enable_row_level_security():
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                   f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")
    op.execute("CREATE POLICY hostname_lookup ON tenant_hostnames FOR SELECT USING (true)")


def _disable_row_level_security():
    op.execute("DROP POLICY hostname_lookup ON tenant_hostnames")
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def upgrade():
    op.create_table('global_tallies',
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('men', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dimension', 'key', 'shard', name=op.f('pk_global_tallies'))
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('corporation', 'university', 'government', 'ngo', 'other', name='tenantkind', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', name='tenantstatus', native_enum=False, length=24), nullable=False),
    sa.Column('default_language', sa.String(length=8), nullable=False),
    sa.Column('enabled_languages', sa.JSON(), nullable=False),
    sa.Column('primary_color', sa.String(length=7), nullable=False),
    sa.Column('accent_color', sa.String(length=7), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_mime', sa.String(length=32), nullable=True),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenants_slug'))
    )
    op.create_table('members',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_canonical', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('role', sa.Enum('member', 'viewer', 'admin', name='role', native_enum=False, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_members_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_members')),
    sa.UniqueConstraint('tenant_id', 'email_canonical', name=op.f('uq_members_tenant_id_email_canonical'))
    )
    op.create_table('tenant_hostnames',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('hostname', sa.String(length=253), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_hostnames_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_hostnames')),
    sa.UniqueConstraint('hostname', name=op.f('uq_tenant_hostnames_hostname'))
    )
    with op.batch_alter_table('tenant_hostnames', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_hostnames_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tenant_tallies',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('men', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_tallies_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'dimension', 'key', 'shard', name=op.f('pk_tenant_tallies'))
    )
    op.create_table('tenant_texts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('headline', sa.String(length=200), nullable=True),
    sa.Column('commitment_text', sa.Text(), nullable=True),
    sa.Column('thank_you_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_texts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'language', name=op.f('pk_tenant_texts'))
    )
    op.create_table('units',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.Enum('department', 'office', 'site', 'campus', 'faculty', 'other', name='unitkind', native_enum=False, length=24), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('external_key', sa.String(length=200), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'parent_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_units_tenant_id_parent_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_units_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_units')),
    sa.UniqueConstraint('tenant_id', 'external_key', name=op.f('uq_units_tenant_id_external_key'))
    )
    op.create_table('commitments',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('gender', sa.Enum('man', 'woman', 'non_binary', 'self_described', 'undisclosed', name='gender', native_enum=False, length=24), nullable=False),
    sa.Column('gender_description', sa.String(length=60), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('source', sa.Enum('web', 'sso', 'registration', 'api', 'import', name='source', native_enum=False, length=24), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('consent_version', sa.String(length=20), nullable=False),
    sa.Column('name_public', sa.Boolean(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(country_code) = 2', name=op.f('ck_commitments_country_code_length')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_commitments_tenant_id_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_commitments_tenant_id_unit_id_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_commitments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_commitments')),
    sa.UniqueConstraint('tenant_id', 'member_id', name=op.f('uq_commitments_tenant_id_member_id'))
    )
    op.create_table('targets',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('metric', sa.Enum('men', 'all', 'participation_rate', name='targetmetric', native_enum=False, length=24), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('value > 0', name=op.f('ck_targets_value_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_targets_tenant_id_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_targets_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_targets'))
    )
    if op.get_bind().dialect.name == "postgresql":
        _enable_row_level_security()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _disable_row_level_security()
    op.drop_table('targets')
    op.drop_table('commitments')
    op.drop_table('units')
    op.drop_table('tenant_texts')
    op.drop_table('tenant_tallies')
    with op.batch_alter_table('tenant_hostnames', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_hostnames_tenant_id'))

    op.drop_table('tenant_hostnames')
    op.drop_table('members')
    op.drop_table('tenants')
    op.drop_table('global_tallies')
