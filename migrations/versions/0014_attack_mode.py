"""Attack mode: a tenant's own switch (``tenants.attack_mode``), the operators' changes with their reasons (the
latest one without a tenant is the switch everywhere), and the proofs of work already spent.

A spent challenge is refused on every host: that table has no tenant (migrations/env.py grants the app role what
it needs on it). The changes are the operators' record, kept under forced row-level security like every table with
a tenant_id: every host reads them (the switch everywhere), a change is added for no tenant or the current one,
and none is ever altered or removed by the app.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"

revision = '0014'
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attack_mode', sa.Boolean(), server_default='0', nullable=False))

    op.create_table('attack_mode_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_attack_mode_changes_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attack_mode_changes'))
    )
    op.create_table('spent_challenges',
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_spent_challenges'))
    )
    with op.batch_alter_table('spent_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spent_challenges_expires_at'), ['expires_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE attack_mode_changes ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE attack_mode_changes FORCE ROW LEVEL SECURITY")
        op.execute("CREATE POLICY attack_mode_changes_read ON attack_mode_changes FOR SELECT USING (true)")
        op.execute(f"CREATE POLICY attack_mode_changes_add ON attack_mode_changes FOR INSERT "
                   f"WITH CHECK (tenant_id IS NULL OR tenant_id = {CURRENT_TENANT})")


def downgrade():
    with op.batch_alter_table('spent_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spent_challenges_expires_at'))
    op.drop_table('spent_challenges')
    op.drop_table('attack_mode_changes')  # its policies go with it
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('attack_mode')
