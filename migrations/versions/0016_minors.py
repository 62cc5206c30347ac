"""Minors: a tenant may ask for the age of digital consent (``tenants.ask_age``), and a commitment made under it
is kept without a member (``commitments.member_id`` may be empty): counted, with nothing about its person.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ask_age', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.alter_column('member_id', existing_type=sa.Uuid(), nullable=True)


def _commitments_without_member(connection) -> int:
    if connection.dialect.name != "postgresql":
        return connection.scalar(sa.text("SELECT count(*) FROM commitments WHERE member_id IS NULL"))
    # Row-level security holds the owner too: each tenant's rows are seen inside that tenant.
    found = 0
    for tenant_id in connection.scalars(sa.text("SELECT id FROM tenants")).all():
        connection.execute(sa.text("SELECT set_config('app.tenant_id', :id, true)"), {"id": str(tenant_id)})
        found += connection.scalar(sa.text("SELECT count(*) FROM commitments WHERE member_id IS NULL"))
    connection.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))
    return found


def downgrade():
    # Before this revision every commitment had a member: one made without personal data cannot be kept, and
    # deleting it would silently lower the counts. The downgrade stops instead.
    found = _commitments_without_member(op.get_bind())
    if found:
        raise RuntimeError(f"commitments made under the age of digital consent are kept without a member ({found}): "
                           "the schema before revision 0018 cannot hold them, so it is not restored")
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.alter_column('member_id', existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('ask_age')
