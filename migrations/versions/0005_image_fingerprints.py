"""Image fingerprints: each tenant's logo and favicon carry a short checksum, so that pages can put it in the
images' URLs (a browser never shows an old one from its cache) without reading the images themselves.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import zlib

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_version', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('favicon_version', sa.String(length=8), nullable=True))

    tenants = sa.table('tenants', sa.column('id', sa.Integer), sa.column('logo', sa.LargeBinary),
                       sa.column('favicon', sa.LargeBinary), sa.column('logo_version', sa.String),
                       sa.column('favicon_version', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(tenants.c.id, tenants.c.logo, tenants.c.favicon)
                              .where(sa.or_(tenants.c.logo.is_not(None), tenants.c.favicon.is_not(None)))).all()
    for tenant_id, logo, favicon in rows:
        connection.execute(tenants.update().where(tenants.c.id == tenant_id).values(
            logo_version=None if logo is None else f"{zlib.crc32(logo):08x}",
            favicon_version=None if favicon is None else f"{zlib.crc32(favicon):08x}"))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('favicon_version')
        batch_op.drop_column('logo_version')
