"""Mail jobs: an outbox entry may be queued without its text, as a kind and what its composer needs, so that
asking for a sign-in link writes the same row whether or not the address is a member's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))


def downgrade():
    # Jobs not yet composed have no text to send without their composer: they go with the columns.
    op.execute("DELETE FROM mail_outbox WHERE kind IS NOT NULL AND message IS NULL AND status IN ('queued', 'sending')")
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('payload')
        batch_op.drop_column('kind')
