"""Live maps: a commitment's place (a GeoNames city), and each tenant's map visibility and privacy threshold.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(sa.Column(
            "map_visibility", sa.Enum("public", "members", "admins", name="mapvisibility", native_enum=False,
                                      length=24), server_default="public", nullable=False))
        batch_op.add_column(sa.Column("privacy_k", sa.Integer(), server_default="10", nullable=False))
        batch_op.create_check_constraint("privacy_k_at_least_5", "privacy_k >= 5")
    with op.batch_alter_table("commitments") as batch_op:
        batch_op.add_column(sa.Column("place_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("commitments") as batch_op:
        batch_op.drop_column("place_id")
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_constraint(op.f("ck_tenants_privacy_k_at_least_5"), type_="check")
        batch_op.drop_column("privacy_k")
        batch_op.drop_column("map_visibility")
