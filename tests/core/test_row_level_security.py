"""PostgreSQL's row-level security: the second wall, which holds even for raw SQL as the app role."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from core.app import create_app
from core.extensions import db
from core.rollup import services as rollup
from core.rollup.models import Gender
from core.rollup.recount import recount
from core.tenancy import reviewed_sql, tenant_context
from tenants.services import signups
from tenants.models import Commitment, Member
from tests.helpers import host

pytestmark = pytest.mark.usefixtures("postgres")

def as_tenant(connection, tenant_id):
    connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})


def test_raw_sql_as_the_app_role_sees_only_the_current_tenant(app_engine, make_tenant, make_commitment):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_commitment(acme, email="a@example.org")
    make_commitment(globex, email="g@example.org")
    with app_engine.begin() as connection:
        as_tenant(connection, acme.id)
        assert connection.execute(text("SELECT email FROM members")).scalars().all() == ["a@example.org"]
        assert connection.scalar(text("SELECT count(*) FROM commitments")) == 1
        assert connection.scalar(text("SELECT count(*) FROM commitments WHERE tenant_id = :g"), {"g": globex.id}) == 0


def test_without_a_tenant_raw_sql_sees_no_rows(app_engine, make_tenant, make_commitment, make_unit):
    acme = make_tenant("acme")
    make_unit(acme)
    make_commitment(acme)
    with app_engine.begin() as connection:
        for table in ("members", "commitments", "units", "tenant_tallies"):
            assert connection.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table


def test_the_app_role_cannot_write_into_another_tenant(app_engine, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with app_engine.begin() as connection:
            as_tenant(connection, acme.id)
            connection.execute(text(
                "INSERT INTO members (tenant_id, id, email, email_canonical, role, created_at) "
                "VALUES (:g, gen_random_uuid(), 'x@example.org', 'x@example.org', 'member', now())"), {"g": globex.id})


def test_every_table_with_a_tenant_id_has_row_level_security_forced(app_engine):
    with app_engine.connect() as connection:
        tables = connection.execute(text("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname)
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        """)).all()
    assert {name for name, *_ in tables} >= {"members", "commitments", "units", "targets", "tenant_tallies"}
    unprotected = [name for name, enabled, forced, policies in tables if not (enabled and forced and policies)]
    assert unprotected == []


def test_the_app_role_cannot_bypass_row_level_security(app_engine):
    with app_engine.connect() as connection:
        role = connection.execute(text(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owns = connection.scalar(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"))
    assert tuple(role) == (False, False)
    assert owns == 0


def test_the_app_role_changes_no_other_tenants_row(app_engine, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with app_engine.begin() as connection:
        as_tenant(connection, acme.id)
        changed = connection.execute(text("UPDATE tenants SET primary_color = '#000000' WHERE id = :g"),
                                     {"g": globex.id}).rowcount
        own = connection.execute(text("UPDATE tenants SET primary_color = '#000000' WHERE id = :a"),
                                 {"a": acme.id}).rowcount
    assert (changed, own) == (0, 1)
    with app_engine.connect() as connection:
        assert connection.scalar(text("SELECT primary_color FROM tenants WHERE id = :g"), {"g": globex.id}) != "#000000"
    with app_engine.begin() as connection:  # with no tenant set, no row at all
        assert connection.execute(text("UPDATE tenants SET listed = false")).rowcount == 0


# Suspending is the operator console's (as the tenant, never another: tests/operator_console/test_grants.py).
@pytest.mark.parametrize("change", [
    "UPDATE tenants SET slug = 'taken' WHERE id = :a",
    "UPDATE tenants SET kind = 'ngo' WHERE id = :a",
    "DELETE FROM tenants WHERE id = :a",
], ids=["slug", "kind", "delete"])
def test_the_app_role_cannot_rename_or_remove_even_its_own_tenant(app_engine, make_tenant, change):
    acme = make_tenant("acme")
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        with app_engine.begin() as connection:
            as_tenant(connection, acme.id)
            connection.execute(text(change), {"a": acme.id})


@pytest.mark.parametrize("write", [
    "INSERT INTO global_tallies (dimension, key, shard, total, men, updated_at) "
    "VALUES ('gender', 'man', 99, 1000000, 1000000, now())",
    "UPDATE global_tallies SET total = total + 1000000",
    "DELETE FROM global_tallies",
    "SELECT add_to_global_tallies(NULL, 'man', 'FR', '2026-01-01', 0, 1000000, 0, now())",
    "SELECT add_to_global_tallies(NULL, 'man', 'FR', '2026-01-01', 0, 0, -1, now())",
    "INSERT INTO people (person_key, commitments, verified_commitments, gender, country_code, day, updated_at) "
    "VALUES ('\\x00', 1000000, 0, 'man', 'FR', '2026-01-01', now())",
    "UPDATE people SET commitments = commitments + 1000000",
    "DELETE FROM people",
], ids=["insert", "update", "delete", "a million at once", "unverified by hand", "a person inserted",
        "people updated", "people deleted"])
def test_the_app_role_writes_the_global_tallies_only_one_commitment_of_its_own_at_a_time(
        app_engine, make_tenant, make_commitment, write):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_commitment(acme)
    with pytest.raises(sa.exc.DBAPIError):
        with app_engine.begin() as connection:
            as_tenant(connection, acme.id)
            connection.execute(text(write), {"g": str(globex.id)} if ":g" in write else {})
    assert recount() == []


def test_a_pooled_connection_never_carries_a_tenant_into_the_next_transaction(app_config, make_tenant,
                                                                             make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme)
    acme_id = acme.id
    app = create_app({**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    with app.app_context():
        with tenant_context(acme_id):
            first_pid = db.session.scalar(reviewed_sql("SELECT pg_backend_pid()"))
            assert db.session.scalar(select(func.count(Member.id))) == 1
            db.session.commit()
        assert db.session.scalar(reviewed_sql("SELECT pg_backend_pid()")) == first_pid, "the same pooled connection"
        assert db.session.scalar(reviewed_sql("SELECT current_setting('app.tenant_id', true)")) in ("", None)
        assert db.session.scalar(reviewed_sql("SELECT count(*) FROM members")) == 0
        db.session.rollback()
        db.engine.dispose()


def test_a_tenant_switched_inside_an_open_transaction_reaches_the_database(app_config, make_tenant, make_commitment):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_commitment(acme, email="a@example.org")
    make_commitment(globex, email="g@example.org")
    acme_id, globex_id = acme.id, globex.id
    emails = lambda: db.session.scalars(reviewed_sql("SELECT email FROM members")).all()
    app = create_app(app_config)
    with app.app_context():
        with tenant_context(acme_id):
            assert emails() == ["a@example.org"]
            with tenant_context(globex_id):
                assert emails() == ["g@example.org"]
            assert emails() == ["a@example.org"]
        assert emails() == []
        db.session.rollback()
        db.engine.dispose()


def test_the_same_connection_serves_requests_of_two_tenants_without_mixing_them(app_config, make_tenant,
                                                                               make_commitment):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    for _ in range(10):  # enough to pass the privacy threshold
        make_commitment(acme, country="KE")
        make_commitment(globex, country="EG")
    app = create_app({**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    client = app.test_client()
    for slug, country in [("acme", "KE"), ("globex", "EG"), ("acme", "KE")]:
        stats = client.get("/stats.json", base_url=f"http://{slug}.hfs.test").get_json()
        assert list(stats["by_country"]) == [country]
    with app.app_context():
        db.engine.dispose()


def test_production_refuses_a_role_that_bypasses_row_level_security_or_owns_tables(app_config, postgres):
    settings = {**app_config, "PRODUCTION": True, "SECRET_KEY": "s" * 40, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "PEOPLE_PEPPER": "p" * 40}
    with pytest.raises(RuntimeError, match="bypass row-level security"):
        create_app({**settings, "SQLALCHEMY_DATABASE_URI": postgres["admin"].render_as_string(False)})
    with pytest.raises(RuntimeError, match="owns tables"):
        create_app({**settings, "SQLALCHEMY_DATABASE_URI": postgres["owner"]})
    create_app(settings)  # the app role is accepted


def run_together(app, tenant_id, work, threads: int = 8) -> list:
    """Run ``work(n)`` in ``threads`` threads released at the same moment, each with its own app context
    and session, as the given tenant; return their results (an exception fails the test)."""
    barrier = threading.Barrier(threads)

    def run(n):
        with app.app_context(), tenant_context(tenant_id):
            barrier.wait()
            return work(n)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def sign_up(email: str) -> bool:
    counted = signups.commit(signups.SignUp(email=email, gender=Gender.MAN, country_code="FR", language="en",
                                              consent_version="1"))
    db.session.commit()
    return counted


def test_concurrent_duplicate_sign_ups_leave_one_commitment(app, make_tenant):
    acme_id = make_tenant("acme").id
    results = run_together(app, acme_id, lambda n: sign_up("Sam@Example.org" if n % 2 else "sam@example.org"))
    assert sorted(results) == [False] * 7 + [True]
    with tenant_context(acme_id):
        assert db.session.scalar(select(func.count(Commitment.id))) == 1
        assert rollup.tenant_counts().men == 1
    assert recount() == []


def test_concurrent_sign_ups_of_different_people_are_all_counted(app, make_tenant):
    acme_id = make_tenant("acme").id
    run_together(app, acme_id, lambda n: [sign_up(f"p{n}-{i}@example.org") for i in range(10)])
    with tenant_context(acme_id):
        assert rollup.tenant_counts().men == 80
    assert rollup.global_counts(["country"]).dimension("country") == {
        "FR": {"total": 80, "men": 80, "verified": 0, "verified_men": 0}}
    assert recount() == []


def test_the_movement_is_walled_off_like_any_tenant(app, client, app_engine, movement, make_tenant,
                                                    make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme, email="a@example.org")
    make_commitment(movement, email="m@example.org")
    with app_engine.begin() as connection:
        as_tenant(connection, movement.id)
        assert connection.execute(text("SELECT email FROM members")).scalars().all() == ["m@example.org"]
        as_tenant(connection, acme.id)
        assert connection.execute(text("SELECT email FROM members")).scalars().all() == ["a@example.org"]

    @app.get("/me/test-database-tenant")
    @app.get("/test-database-tenant")
    def database_tenant():
        return db.session.scalar(reviewed_sql("SELECT current_setting('app.tenant_id', true)")) or "none"

    assert client.get("/me/test-database-tenant", base_url=host()).get_data(as_text=True) == str(movement.id)
    assert client.get("/test-database-tenant", base_url=host()).get_data(as_text=True) == "none"


@pytest.mark.parametrize("write", [
    "INSERT INTO global_released_tallies (dimension, key, total, men, verified, verified_men) "
    "VALUES ('gender', 'man', 1000000, 1000000, 0, 0)",
    "UPDATE global_released_tallies SET total = total + 1000000",
    "DELETE FROM global_released_tallies",
    "UPDATE global_releases SET number = number + 1",
    "SELECT release_global_tallies(1, 0, now())",  # the caller's own k and time: there is no such function
], ids=["copy inserted", "copy updated", "copy deleted", "mark moved", "own k and time"])
def test_the_app_role_releases_the_movements_copy_only_as_the_tallies_are(app_engine, client, make_tenant,
                                                                            make_commitment, write):
    acme = make_tenant("acme")
    for _ in range(10):
        make_commitment(acme)
    assert client.get("/stats.json", base_url=host()).get_json()["men"] == 10  # released by the function
    with pytest.raises(sa.exc.DBAPIError):
        with app_engine.begin() as connection:
            connection.execute(text(write))
    with app_engine.begin() as connection:
        make_commitment(acme)  # one more: not a step
        assert connection.scalar(text("SELECT release_global_tallies(1)")) is None
        assert connection.scalar(text("SELECT sum(men) FROM global_released_tallies WHERE dimension = 'gender'")) == 10


@pytest.mark.parametrize("prepared", [
    "CREATE TEMPORARY VIEW counted_now AS SELECT 1 AS tenant_id",
    "CREATE TEMPORARY TABLE counted_now (tenant_id integer, person_key bytea, verified boolean, gender text, "
    "country_code text, day text, created_at timestamptz, id uuid)",
], ids=["a view", "a table"])
def test_the_rebuild_uses_no_working_table_the_app_role_made(app_engine, make_tenant, make_commitment, prepared):
    """The rebuild runs with the owner's rights: a temporary table or view of its working table's name, made by
    the caller first (with rows, rules or triggers of its own), stops it instead of being used."""
    make_commitment(make_tenant("acme"))
    with pytest.raises(sa.exc.DBAPIError):
        with app_engine.begin() as connection:
            connection.execute(text(prepared))
            connection.execute(text("GRANT ALL ON counted_now TO PUBLIC"))  # so that the owner could use it
            connection.execute(text("SELECT rebuild_global_tallies()"))
    with app_engine.begin() as connection:
        connection.execute(text("SELECT rebuild_global_tallies()"))  # its own table: it works
    assert recount() == []
