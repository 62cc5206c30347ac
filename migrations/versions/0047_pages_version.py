"""The version of what a tenant's public pages show beyond its row (``tenants.pages_version``): its texts, units,
targets and sign-in. Pages kept rendered are keyed by the tenant's row, so a change to any of these moves it
(``tenants.services.hosts.pages_changed``); the app role may update it (migrations/env.py).

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0047'
down_revision = '0046'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pages_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('pages_version')
