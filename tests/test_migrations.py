"""Migrations and models agree, and every migration can be undone."""

import uuid
import zlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text, update

from core.extensions import db
from core.rollup.recount import recount
from core.rollup.models import Gender
from core.tenancy import tenant_context
from tenants.models import Commitment, UnitKind
from tenants.services import signups


def _differences(app) -> list:
    engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    engine.dispose()
    return differences


def test_models_and_migrations_agree(app):
    with app.app_context():
        assert _differences(app) == []


def test_every_migration_has_a_working_downgrade(app):
    with app.app_context():
        db.engine.dispose()
        downgrade(revision="base")
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade()
        assert _differences(app) == []


def test_images_stored_before_their_fingerprints_get_one(app):
    with app.app_context():
        db.engine.dispose()
        downgrade(revision="0004")
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO tenants (id, slug, name, kind, status, default_language, enabled_languages, primary_color,"
                " accent_color, logo, logo_mime, listed, map_visibility, privacy_k, break_glass_enabled, created_at)"
                " VALUES (1, 'acme', 'Acme', 'corporation', 'active', 'en', '[\"en\"]', '#5b2a86', '#00758d',"
                " :logo, 'image/png', true, 'public', 10, false, CURRENT_TIMESTAMP)"), {"logo": b"logo bytes"})
        upgrade()
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT logo_version, favicon_version FROM tenants")).one()
        engine.dispose()
        assert versions == (f"{zlib.crc32(b'logo bytes'):08x}", None)


def test_email_domains_claimed_before_proofs_existed_stay_claimed_but_unproven(app):
    with app.app_context():
        db.engine.dispose()
        downgrade(revision="0005")
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO tenants (id, slug, name, kind, status, default_language, enabled_languages, primary_color,"
                " accent_color, listed, map_visibility, privacy_k, break_glass_enabled, created_at)"
                " VALUES (1, 'acme', 'Acme', 'corporation', 'active', 'en', '[\"en\"]', '#5b2a86', '#00758d',"
                " true, 'public', 10, false, CURRENT_TIMESTAMP)"))
            if connection.dialect.name == "postgresql":  # row-level security: written as the tenant
                connection.execute(text("SELECT set_config('app.tenant_id', '1', true)"))
            connection.execute(text("INSERT INTO sso_email_domains (domain, tenant_id) VALUES ('acme.example', 1)"))
        upgrade()
        with engine.connect() as connection:
            domain, token, proven = connection.execute(text(
                "SELECT domain, verification_token, verified_at FROM sso_email_domains")).one()
        engine.dispose()
        assert (domain, proven) == ("acme.example", None) and len(token) >= 32


def test_undoing_proven_domains_keeps_the_proven_claim_of_a_shared_name(app):
    with app.app_context():
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
        with engine.begin() as connection:
            for tenant_id, slug in ((1, "acme"), (2, "northfield")):
                connection.execute(text(
                    "INSERT INTO tenants (id, slug, name, kind, status, default_language, enabled_languages,"
                    " primary_color, accent_color, listed, map_visibility, privacy_k, break_glass_enabled, created_at)"
                    " VALUES (:id, :slug, :slug, 'corporation', 'active', 'en', '[\"en\"]', '#5b2a86', '#00758d',"
                    " true, 'public', 10, false, CURRENT_TIMESTAMP)"), {"id": tenant_id, "slug": slug})
        for tenant_id, proven in ((1, None), (2, "2026-12-01")):
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":  # row-level security: written as the tenant
                    connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
                connection.execute(text(
                    "INSERT INTO sso_email_domains (tenant_id, domain, verification_token, verified_at)"
                    " VALUES (:t, 'northfield.edu', 'token', :proven)"), {"t": tenant_id, "proven": proven})
                connection.execute(text(
                    "INSERT INTO tenant_hostnames (tenant_id, hostname, verified_at, created_at)"
                    " VALUES (:t, 'join.northfield.edu', :proven, CURRENT_TIMESTAMP)"), {"t": tenant_id, "proven": proven})
        db.engine.dispose()
        downgrade(revision="0005")
        with engine.connect() as connection:
            domains = connection.execute(text("SELECT tenant_id, domain FROM sso_email_domains")).all()
            hostnames = connection.execute(text("SELECT tenant_id, hostname FROM tenant_hostnames")).all()
        engine.dispose()
        upgrade()
        assert domains == [(2, "northfield.edu")] and hostnames == [(2, "join.northfield.edu")]


def test_undoing_minors_stops_rather_than_drop_a_commitment_kept_without_its_person(app, make_tenant, capfd):
    acme = make_tenant("acme").id
    with tenant_context(acme):
        signups.commit(signups.SignUp(email=None, gender=Gender.MAN, country_code="DE", language="de",
                                      consent_version="2026-11"))
        db.session.commit()
    db.session.remove()
    db.engine.dispose()
    downgrade(revision="0016")  # the counting rules, above it, keep nothing of a member either way
    with pytest.raises(SystemExit):
        downgrade(revision="0015")
    assert "kept without a member (1)" in capfd.readouterr().err
    engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0016", "minors not undone"
    engine.dispose()
    upgrade()
    with tenant_context(acme):
        assert db.session.scalars(select(Commitment.member_id)).all() == [None]


def test_unit_tallies_by_day_are_counted_from_the_commitments_on_upgrade(app, make_tenant, make_unit,
                                                                          make_commitment):
    acme = make_tenant("acme")
    unit = make_unit(acme)
    for _ in range(3):
        make_commitment(acme, unit=unit)
    make_commitment(acme)
    acme_id = acme.id  # read now: after the downgrade, the tenants table lacks columns of today's model
    db.session.commit()  # and end the read's transaction: it would hold off the downgrade's DROP TABLEs
    with app.app_context():
        db.session.commit()
        db.engine.dispose()
        downgrade(revision="0019")
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":  # row-level security holds the owner too
                connection.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(acme_id)})
            count = "SELECT count(*) FROM tenant_tallies WHERE dimension = :d"
            assert connection.scalar(text(count), {"d": "unit"}) > 0
            assert connection.scalar(text(count), {"d": "unit_day"}) == 0, "dropped by the downgrade"
        upgrade()
        engine.dispose()
        assert recount() == [], "the unit-by-day tallies are what the commitments say"


def test_a_department_named_as_a_commitments_one_unit_becomes_its_department(app, make_tenant, make_unit,
                                                                            make_commitment, capfd):
    acme = make_tenant("acme")
    paris = make_unit(acme)
    finance = make_unit(acme, "Finance", kind=UnitKind.DEPARTMENT)
    make_commitment(acme, unit=paris, department_id=finance.id, email="both@example.org")
    make_commitment(acme, unit=finance)
    make_commitment(acme, unit=paris)
    acme_id = acme.id
    db.session.commit()
    with app.app_context():
        db.engine.dispose()
        with pytest.raises(SystemExit):  # a commitment in two units: the schema before cannot hold it
            downgrade(revision="0037")
        assert "commitments name both an office and a department (1)" in capfd.readouterr().err
        upgrade()  # on SQLite the later revisions' downgrades stood before this one stopped: back to the models
        with tenant_context(acme_id):
            signups.withdraw(db.session.scalars(select(Commitment).where(Commitment.department_id.is_not(None),
                                                                         Commitment.unit_id.is_not(None))).one())
            db.session.execute(update(Commitment).where(Commitment.unit_id == paris.id)
                               .values(department_id=None))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
        downgrade(revision="0037")
        engine = create_engine(app.config["MIGRATION_DATABASE_URL"])
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(acme_id)})
            units = connection.scalars(text("SELECT unit_id FROM commitments")).all()
        engine.dispose()
        assert sorted(map(uuid.UUID, map(str, units)), key=str) == sorted([paris.id, paris.id, finance.id], key=str)
        upgrade()
        assert recount() == [], "each unit still counts what its commitments say"
    with tenant_context(acme_id):
        assert sorted(db.session.execute(select(Commitment.unit_id, Commitment.department_id)).all(),
                      key=str) == sorted([(paris.id, None), (paris.id, None), (None, finance.id)], key=str)
