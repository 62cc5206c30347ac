"""What the app role may do on billing's tables (PostgreSQL): a tenant's plan is read by all and written only as
that tenant; its Stripe customer is its own; Stripe's events are kept, never deleted or rewritten in their id."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("postgres")


def as_tenant(connection, tenant) -> None:
    connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})


def test_a_plan_is_read_by_all_and_changed_only_as_its_tenant(app_engine, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")  # each on a plan already
    with app_engine.begin() as connection:
        as_tenant(connection, acme)
        assert connection.execute(text("UPDATE tenant_plans SET sponsored = true")).rowcount == 1  # its own
        assert connection.scalar(text("SELECT count(*) FROM tenant_plans")) == 2  # read by all
    with app_engine.begin() as connection:
        as_tenant(connection, globex)
        assert connection.scalar(text("SELECT sponsored FROM tenant_plans WHERE tenant_id = :a"), {"a": acme.id})
        assert connection.execute(text("UPDATE tenant_plans SET plan = 'community' WHERE tenant_id = :a"),
                                  {"a": acme.id}).rowcount == 0


def test_a_stripe_customer_is_its_tenants_alone(app_engine, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with app_engine.begin() as connection:
        as_tenant(connection, acme)
        connection.execute(text("INSERT INTO billing_accounts (tenant_id, customer_id, created_at) "
                                "VALUES (:a, 'cus_acme', now())"), {"a": acme.id})
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with app_engine.begin() as connection:
            as_tenant(connection, acme)
            connection.execute(text("INSERT INTO billing_accounts (tenant_id, customer_id, created_at) "
                                    "VALUES (:g, 'cus_globex', now())"), {"g": globex.id})
    with app_engine.begin() as connection:
        as_tenant(connection, globex)
        assert connection.scalar(text("SELECT count(*) FROM billing_accounts")) == 0


def test_stripe_events_are_kept(app_engine):
    with app_engine.begin() as connection:
        connection.execute(text("INSERT INTO stripe_events (id, type, created, received_at, attempts) "
                                "VALUES ('evt_1', 'invoice.paid', now(), now(), 0)"))
    for statement in ("DELETE FROM stripe_events", "UPDATE stripe_events SET id = 'evt_2'"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with app_engine.begin() as connection:
                connection.execute(text(statement))
