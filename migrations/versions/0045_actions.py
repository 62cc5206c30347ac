"""From commitment to action: the pillar a commitment names, when its person first acted, the actions people plan,
the "Did you do it?" reminders they ask for, and their stories; two tenant settings (ask the pillar, the days before
a reminder).

The new tables are tenant-owned and get row-level security on PostgreSQL. The new commitment columns are empty for
commitments made before: they count under no pillar, and nobody has acted yet, so the tallies need no recount.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa

revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
TABLES = ("planned_actions", "action_reminders", "stories")


def _commitment_key(table: str):
    return sa.ForeignKeyConstraint(['tenant_id', 'commitment_id'], ['commitments.tenant_id', 'commitments.id'],
                                   name=op.f(f'fk_{table}_tenant_id_commitments'), ondelete='CASCADE')


def _tenant_key(table: str):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'),
                                   ondelete='CASCADE')


def upgrade():
    op.add_column('tenants', sa.Column('ask_pillar', sa.Boolean(), server_default='1', nullable=False))
    op.add_column('tenants', sa.Column('reminder_days', sa.Integer(), server_default='14', nullable=False))
    op.add_column('commitments', sa.Column('pillar', sa.String(length=16), nullable=True))
    op.add_column('commitments', sa.Column('acted_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('planned_actions',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('commitment_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    _commitment_key('planned_actions'), _tenant_key('planned_actions'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_planned_actions')),
    sa.UniqueConstraint('tenant_id', 'commitment_id', 'action',
                        name=op.f('uq_planned_actions_tenant_id_commitment_id_action'))
    )
    op.create_table('action_reminders',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('commitment_id', sa.Uuid(), nullable=False),
    sa.Column('consent_version', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('asked', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('last_answer', sa.String(length=8), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    _commitment_key('action_reminders'), _tenant_key('action_reminders'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_action_reminders')),
    sa.UniqueConstraint('tenant_id', 'commitment_id', name=op.f('uq_action_reminders_tenant_id_commitment_id'))
    )
    op.create_index('ix_action_reminders_due', 'action_reminders', ['tenant_id', 'due_at'])
    op.create_table('stories',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('commitment_id', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=320), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    _commitment_key('stories'), _tenant_key('stories'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_stories'))
    )
    op.create_index('ix_stories_status', 'stories', ['tenant_id', 'status', 'created_at'])

    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                       f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade():
    # Dropping the tables drops their policies with them. The tallies keep no key of the dropped columns once
    # recounted (`flask rollup recount --repair`).
    op.drop_index('ix_stories_status', table_name='stories')
    op.drop_table('stories')
    op.drop_index('ix_action_reminders_due', table_name='action_reminders')
    op.drop_table('action_reminders')
    op.drop_table('planned_actions')
    op.drop_column('commitments', 'acted_at')
    op.drop_column('commitments', 'pillar')
    op.drop_column('tenants', 'reminder_days')
    op.drop_column('tenants', 'ask_pillar')
