"""What the app role may do on the operator console's tables and on a tenant's status (PostgreSQL): the audit log
is added to, never rewritten; a suspension, and a tenant's standing, reach one tenant, the one the app acts as."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from operator_console import services
from operator_console.models import ApplicationKind
from tenants.kits import services as kits

pytestmark = pytest.mark.usefixtures("postgres")


def test_the_operators_audit_log_cannot_be_rewritten(app_engine, db):
    services.record("olga@heforshe.example", "tenant.suspend", "acme", reason="Unpaid")
    db.session.commit()
    for statement in ("UPDATE operator_audit SET reason = 'nothing'", "DELETE FROM operator_audit"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with app_engine.begin() as connection:
                connection.execute(text(statement))


def test_applications_are_decided_never_deleted_or_altered(app_engine, db):
    services.apply("Newco", ApplicationKind.NGO, "KE", "https://newco.example", "Nadia", "nadia@newco.example",
                   "newco", "en")
    db.session.commit()
    for statement in ("DELETE FROM partner_applications", "UPDATE partner_applications SET subdomain = 'other'",
                      "UPDATE partner_applications SET contact_email = 'mallory@example.org'"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with app_engine.begin() as connection:
                connection.execute(text(statement))


def test_a_status_change_reaches_only_the_tenant_the_app_acts_as(app_engine, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with app_engine.begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(acme.id)})
        changed = connection.execute(text("UPDATE tenants SET status = 'suspended'")).rowcount
    assert changed == 1
    with app_engine.begin() as connection:
        assert dict(connection.execute(text("SELECT slug, status FROM tenants")).all()) == {
            "acme": "suspended", "globex": "active"}
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        with app_engine.begin() as connection:
            connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(acme.id)})
            connection.execute(text("UPDATE tenants SET slug = 'taken'"))


def test_a_tenants_standing_is_read_by_all_and_written_only_as_that_tenant(app_engine, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with app_engine.begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(acme.id)})
        connection.execute(text("INSERT INTO partner_records (tenant_id, country_code, updated_at) "
                                "VALUES (:a, 'KE', now())"), {"a": acme.id})
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with app_engine.begin() as connection:
            connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(acme.id)})
            connection.execute(text("INSERT INTO partner_records (tenant_id, country_code, updated_at) "
                                    "VALUES (:g, 'KE', now())"), {"g": globex.id})
    with app_engine.begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(globex.id)})
        assert connection.execute(text("UPDATE partner_records SET country_code = 'UG'")).rowcount == 0
        assert connection.scalar(text("SELECT count(*) FROM partner_records")) == 1  # read by all


def test_kits_keep_their_address_and_are_unpublished_never_deleted(app_engine, db):
    kits.save_kit(None, "allies", "ngo", "peace", True, {"en": kits.KitText("Allies", "In one line.", "Steps.")})
    db.session.commit()
    for statement in ("UPDATE kits SET slug = 'elsewhere'", "DELETE FROM kits"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            with app_engine.begin() as connection:
                connection.execute(text(statement))
    with app_engine.begin() as connection:
        assert connection.execute(text("UPDATE kits SET published = false")).rowcount == 1
