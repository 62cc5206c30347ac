"""Single sign-on upkeep: what the admin should change after a failed sign-in (a short code the settings page
explains in the admin's language), and when the identity provider's SAML metadata was last re-read.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sso_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error_hint', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('saml_idp_metadata_read_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('sso_connections', schema=None) as batch_op:
        batch_op.drop_column('saml_idp_metadata_read_at')
        batch_op.drop_column('last_error_hint')
