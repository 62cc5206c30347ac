"""Sign-up signals: each commitment's client network, email domain and suspect reasons, indexed for grouping by
network or domain over time.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_network", sa.String(length=43), nullable=True))
        batch_op.add_column(sa.Column("email_domain", sa.String(length=253), nullable=True))
        batch_op.add_column(sa.Column("suspect", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_commitments_network_time", ["tenant_id", "client_network", "created_at"])
        batch_op.create_index("ix_commitments_domain_time", ["tenant_id", "email_domain", "created_at"])


def downgrade():
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_commitments_domain_time")
        batch_op.drop_index("ix_commitments_network_time")
        batch_op.drop_column("suspect")
        batch_op.drop_column("email_domain")
        batch_op.drop_column("client_network")
