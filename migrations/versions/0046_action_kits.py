"""Action kits: the operator's kits and their texts by language (``kits``, ``kit_translations``: global), each
tenant's choice of them (``kit_choices``) and its own kits (``tenant_kits``), both tenant-owned under row-level
security on PostgreSQL.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0046'
down_revision = '0045'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
TENANT_TABLES = ("kit_choices", "tenant_kits")


def _tenant(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'),
                                   ondelete='CASCADE')


def upgrade():
    op.create_table('kits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('pillar', sa.String(length=16), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kits')),
    sa.UniqueConstraint('slug', name=op.f('uq_kits_slug'))
    )
    op.create_table('kit_translations',
    sa.Column('kit_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kit_id'], ['kits.id'], name=op.f('fk_kit_translations_kit_id_kits'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kit_id', 'language', name=op.f('pk_kit_translations'))
    )
    op.create_table('kit_choices',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kit_id', sa.Integer(), nullable=False),
    sa.Column('shown', sa.Boolean(), nullable=False),
    _tenant('kit_choices'),
    sa.ForeignKeyConstraint(['kit_id'], ['kits.id'], name=op.f('fk_kit_choices_kit_id_kits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'kit_id', name=op.f('pk_kit_choices'))
    )
    op.create_table('tenant_kits',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('pillar', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('contacts', sa.Text(), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    _tenant('tenant_kits'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tenant_kits')),
    sa.UniqueConstraint('tenant_id', 'slug', name=op.f('uq_tenant_kits_tenant_id_slug'))
    )

    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                       f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade():
    # Dropping the tables drops their policies with them.
    op.drop_table('tenant_kits')
    op.drop_table('kit_choices')
    op.drop_table('kit_translations')
    op.drop_table('kits')
