"""A partner's own hero image for its sign-up page (``tenants.hero``, re-encoded on upload as logos are), with
its media type and fingerprint; none: the HeForShe default.

Revision ID: 0035
Revises: 0026
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tenants', sa.Column('hero', sa.LargeBinary(), nullable=True))
    op.add_column('tenants', sa.Column('hero_mime', sa.String(length=32), nullable=True))
    op.add_column('tenants', sa.Column('hero_version', sa.String(length=8), nullable=True))


def downgrade():
    # Plain ALTER TABLE on both databases (SQLite 3.35 and later drops such columns in place).
    for column in ('hero_version', 'hero_mime', 'hero'):
        op.execute(f"ALTER TABLE tenants DROP COLUMN {column}")
