"""Proven domains: an email domain sends people to a tenant's sign-in only once proven (a DNS TXT record holding
the claim's token, or the operator), and several tenants may claim a domain or a custom hostname until one of
them proves it. One proven claim per email domain, one verified entry per hostname.

Claims made before this revision were never proven: they stay, unproven, each with a fresh token to publish.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = "0006"
branch_labels = None
depends_on = None

PROVEN = sa.text("verified_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table('sso_email_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_email_domains_tenant_id'))
        batch_op.drop_constraint(batch_op.f('pk_sso_email_domains'), type_='primary')
        batch_op.add_column(sa.Column('verification_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_primary_key(batch_op.f('pk_sso_email_domains'), ['tenant_id', 'domain'])

    domains = sa.table('sso_email_domains', sa.column('tenant_id', sa.Integer), sa.column('domain', sa.String),
                       sa.column('verification_token', sa.String))
    connection = op.get_bind()
    for tenant_id, domain in connection.execute(sa.select(domains.c.tenant_id, domains.c.domain)).all():
        _as_tenant(connection, tenant_id)
        connection.execute(domains.update()
                           .where(domains.c.tenant_id == tenant_id, domains.c.domain == domain)
                           .values(verification_token=secrets.token_urlsafe(24)))

    with op.batch_alter_table('sso_email_domains', schema=None) as batch_op:
        batch_op.alter_column('verification_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('uq_sso_email_domains_proven_domain', ['domain'], unique=True,
                              sqlite_where=PROVEN, postgresql_where=PROVEN)

    with op.batch_alter_table('tenant_hostnames', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tenant_hostnames_hostname'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_tenant_hostnames_tenant_id_hostname'), ['tenant_id', 'hostname'])
        batch_op.create_index('uq_tenant_hostnames_verified_hostname', ['hostname'], unique=True,
                              sqlite_where=PROVEN, postgresql_where=PROVEN)


def downgrade():
    # The older schema has one claim per name: an unverified claim of a name that another tenant also claims
    # goes (a verified one stays).
    connection = op.get_bind()
    for table, column in (("tenant_hostnames", "hostname"), ("sso_email_domains", "domain")):
        rows = sa.table(table, sa.column('tenant_id', sa.Integer), sa.column(column, sa.String),
                        sa.column('verified_at', sa.DateTime))
        name = rows.c[column]
        shared = sa.select(name).group_by(name).having(sa.func.count() > 1)
        for tenant_id, value in connection.execute(
                sa.select(rows.c.tenant_id, name).where(rows.c.verified_at.is_(None), name.in_(shared))).all():
            _as_tenant(connection, tenant_id)
            connection.execute(rows.delete().where(rows.c.tenant_id == tenant_id, name == value))

    with op.batch_alter_table('tenant_hostnames', schema=None) as batch_op:
        batch_op.drop_index('uq_tenant_hostnames_verified_hostname')
        batch_op.drop_constraint(batch_op.f('uq_tenant_hostnames_tenant_id_hostname'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_tenant_hostnames_hostname'), ['hostname'])

    with op.batch_alter_table('sso_email_domains', schema=None) as batch_op:
        batch_op.drop_index('uq_sso_email_domains_proven_domain')
        batch_op.drop_constraint(batch_op.f('pk_sso_email_domains'), type_='primary')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('verification_token')
        batch_op.create_primary_key(batch_op.f('pk_sso_email_domains'), ['domain'])
        batch_op.create_index(batch_op.f('ix_sso_email_domains_tenant_id'), ['tenant_id'], unique=False)


def _as_tenant(connection, tenant_id: int) -> None:
    """Row-level security lets a tenant's rows be changed only as that tenant (PostgreSQL; for this transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(tenant_id)})
