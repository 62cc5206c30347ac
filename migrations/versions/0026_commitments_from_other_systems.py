"""A commitment sent by another system (the API) keeps when its person consented there and that system's own id
for it (``commitments.consented_at``, ``commitments.external_id``); both empty for one made on a form.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: SQLite (3.35 and later) adds and drops such columns in place, where batch
# mode would rebuild the table and cannot copy its computed ``counted`` column.
def upgrade():
    op.add_column('commitments', sa.Column('consented_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('commitments', sa.Column('external_id', sa.String(length=100), nullable=True))


def downgrade():
    op.execute("ALTER TABLE commitments DROP COLUMN external_id")
    op.execute("ALTER TABLE commitments DROP COLUMN consented_at")
