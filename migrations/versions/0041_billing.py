"""Billing: each tenant's plan (``tenant_plans``, which ``tenants.plans`` reads to decide what it is entitled to,
and where sponsorship now lives), its Stripe customer (``billing_accounts``) and the Stripe events received
(``stripe_events``).

``tenant_plans`` is read by its key before any tenant is set (the host's pages, the operators' list), so, like
``partner_records``, row-level security is forced on it, every row may be read, and a row is written only as its
tenant. ``billing_accounts`` is a tenant's own table (forced row-level security, its tenant's rows only).
``stripe_events`` is global: events arrive on the global host, under no tenant; the app may add them and mark them
handled (migrations/env.py).

Tenants that exist already keep every feature they had: each is put on the Enterprise plan, granted (no
subscription behind it), and its sponsorship moves from ``partner_records`` with its reason.

Revision ID: 0041_billing
Revises: 0040
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

revision = '0041_billing'
down_revision = '0040'
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"


def upgrade():
    op.create_table('tenant_plans',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('plan', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=True),
    sa.Column('past_due_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('sponsored', sa.Boolean(), nullable=False),
    sa.Column('sponsored_reason', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_plans_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tenant_plans'))
    )
    op.create_table('billing_accounts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('subscription_id', sa.String(length=255), nullable=True),
    sa.Column('checkout_session_id', sa.String(length=255), nullable=True),
    sa.Column('checkout_plan', sa.String(length=32), nullable=True),
    sa.Column('checkout_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_billing_accounts_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_billing_accounts')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_billing_accounts_customer_id'))
    )
    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    op.create_index('ix_stripe_events_due', 'stripe_events', ['handled_at', 'next_attempt_at'])

    bind = op.get_bind()
    # Filled before its policies exist (partner_records' may be read by anyone).
    bind.execute(sa.text(
        "INSERT INTO tenant_plans (tenant_id, plan, cancel_at_period_end, sponsored, sponsored_reason, updated_at) "
        "SELECT t.id, CASE WHEN t.kind = 'movement' THEN 'community' ELSE 'enterprise' END, false, "
        "COALESCE(p.sponsored, false), p.sponsored_reason, CURRENT_TIMESTAMP "
        "FROM tenants t LEFT JOIN partner_records p ON p.tenant_id = t.id"))
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE tenant_plans ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE tenant_plans FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON tenant_plans "
                   f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")
        op.execute("CREATE POLICY plan_read ON tenant_plans FOR SELECT USING (true)")
        op.execute("ALTER TABLE billing_accounts ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE billing_accounts FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON billing_accounts "
                   f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")
    with op.batch_alter_table('partner_records') as batch_op:
        batch_op.drop_column('sponsored_reason')
        batch_op.drop_column('sponsored')


def downgrade():
    with op.batch_alter_table('partner_records') as batch_op:
        batch_op.add_column(sa.Column('sponsored', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('sponsored_reason', sa.Text(), nullable=True))
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:  # the owner, bound by forced row-level security too, writes every tenant's row
        op.execute("ALTER TABLE partner_records NO FORCE ROW LEVEL SECURITY")
    bind.execute(sa.text(
        "UPDATE partner_records SET sponsored = true, sponsored_reason = (SELECT sponsored_reason FROM tenant_plans "
        "WHERE tenant_plans.tenant_id = partner_records.tenant_id) WHERE tenant_id IN "
        "(SELECT tenant_id FROM tenant_plans WHERE sponsored)"))
    if postgres:
        op.execute("ALTER TABLE partner_records FORCE ROW LEVEL SECURITY")
    with op.batch_alter_table('partner_records') as batch_op:
        batch_op.alter_column('sponsored', server_default=None)
    # Dropping the tables drops their policies with them.
    op.drop_index('ix_stripe_events_due', table_name='stripe_events')
    op.drop_table('stripe_events')
    op.drop_table('billing_accounts')
    op.drop_table('tenant_plans')
