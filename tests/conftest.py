"""Shared fixtures: a migrated database per session, a fresh one per test, the app, a client, factories.

The suite runs on SQLite by default. With ``TEST_DATABASE_URL`` naming a PostgreSQL server (as a role
that may create roles and databases), it runs on PostgreSQL instead (in a database ``hfs_test_main``, or
``hfs_test_<TEST_DATABASE_SUFFIX>`` so that two checkouts can run at once), as the production split of
roles: migrations as the owner ``hfs_owner``, the app as ``hfs_app`` (no BYPASSRLS), and the
PostgreSQL-only tests run too. ``REQUIRE_REAL_PARTS`` (set by CI, e.g. ``postgres browser``) turns
the "cannot run here" skips of those parts into failures.
"""

from __future__ import annotations

import contextvars
import functools
import gc
import itertools
import logging
import os
import shutil
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from core.app import create_app
from core.auth import Via, sign_in
from core.extensions import db as _db
from core.rollup.models import Gender
from core.snapshots.keys import load_signing_key
from core.tenancy import tenant_context
from tenants import plans
from tenants.services import members, registry, signups
from tenants.services.movement import ensure as ensure_movement
from tenants.models import Member, Role, Tenant, TenantKind, Unit, UnitKind

from tests.helpers import BASE_DOMAIN
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
pytest_plugins = ["tests.sso_fixtures", "tests.mail_fixtures", "tests.dns_fixtures"]
REQUIRE_REAL_PARTS = set(os.environ.get("REQUIRE_REAL_PARTS", "").split())
OWNER_ROLE, APP_ROLE = "hfs_owner", "hfs_app"


def pytest_collection_modifyitems(config, items):
    """Run the tests marked ``long`` first: started last, one would keep its process busy after the other ran out
    of tests. In the PostgreSQL pass, skip what would only repeat the SQLite pass: a test that uses no database,
    and a browser test unless it is marked ``both_databases``.

    A page is the same HTML on either database: what PostgreSQL adds (row-level security, real concurrency,
    its types) is tested over HTTP in both passes, so most browser journeys need to run once, in the SQLite pass.
    """
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the rest keep their order
    if not POSTGRES_URL:
        return
    browser_once = pytest.mark.skip(
        reason="a browser test: runs in the SQLite pass (mark it both_databases to run it here)")
    no_database = pytest.mark.skip(reason="uses none of the suite's databases: runs in the SQLite pass only")
    for item in items:
        if "database" not in item.fixturenames:
            item.add_marker(no_database)
        elif "browser" in item.fixturenames and not item.get_closest_marker("both_databases"):
            item.add_marker(browser_once)


def pytest_configure(config):
    # Each test builds an app, whose cyclic garbage set off a full collection of the worker's whole heap (the
    # place table, the catalogues, every module) every few tests: a quarter of a test's time. Collections come
    # less often here, and what exists once the tests are collected is never scanned again (gc.freeze below).
    gc.set_threshold(50_000, 20, 100)


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()


def _keep_url_builders() -> None:
    """Let every app the suite builds share its URL rules' builders.

    Each test builds an app of its own, and werkzeug compiles each of its ~900 rules' URL builders to Python code
    every time: 60% of ``create_app``, some 90 s of each pass's CPU. A builder is a function of the rule's text,
    its parsed parts and defaults alone (it reaches the rule's converters through the ``self`` it is bound to),
    so one compiled for a rule serves the same rule in the next app.
    """
    compile_builder = Rule._compile_builder
    builders: dict = {}

    def kept(rule: Rule, append_unknown: bool = True):
        key = (rule.rule, rule.host, rule.subdomain, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())),
               append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    Rule._compile_builder = kept


_keep_url_builders()


def cannot_run(part: str, reason: str):
    """Skip with a reason on a developer's machine; fail where CI requires ``part`` to run."""
    if part in REQUIRE_REAL_PARTS:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def base_config(database_url: str, migration_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MIGRATION_DATABASE_URL": migration_url,
        "DATABASE_APP_ROLE": APP_ROLE if database_url.startswith("postgresql") else "",
        "BASE_DOMAIN": BASE_DOMAIN,
        "STATS_CACHE_SECONDS": 0,
        "PAGE_CACHE_SECONDS": 0,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def _migrate(config: dict) -> None:
    app = create_app(config)
    with app.app_context():
        upgrade()
        _db.engine.dispose()


def _postgres_database(worker: str) -> dict:
    """Create the owner and app roles and a fresh database; return the URLs to use."""
    admin_url = make_url(POSTGRES_URL)
    name = f"hfs_test_{worker}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            # Roles belong to the whole server: parallel workers on a fresh one would both find a role missing and
            # one would fail to create it, so they take turns (the lock ends with the connection).
            connection.execute(sa.text("SELECT pg_advisory_lock(hashtext('hfs test roles'))"))
            for role in (OWNER_ROLE, APP_ROLE):
                exists = connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
                if not exists:
                    connection.execute(sa.text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {name} OWNER {OWNER_ROLE}"))
            # A test database is thrown away: no test waits for its commits to reach the disk.
            connection.execute(sa.text(f"ALTER DATABASE {name} SET synchronous_commit = off"))
    except sa.exc.OperationalError as error:
        cannot_run("postgres", f"PostgreSQL at TEST_DATABASE_URL cannot be reached: {error.orig}")
    finally:
        engine.dispose()
    as_role = lambda role: admin_url.set(username=role, password=None, database=name).render_as_string(False)
    return {"app": as_role(APP_ROLE), "owner": as_role(OWNER_ROLE), "admin": admin_url.set(database=name)}


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """A migrated database for the whole session: ``{"app": url, "owner": url, "template": path}``."""
    if POSTGRES_URL:
        # One database per runner of the suite: a suffix of one's own, and each parallel worker its own.
        suffix = "_".join(filter(None, (os.environ.get("TEST_DATABASE_SUFFIX", "main"),
                                        os.environ.get("PYTEST_XDIST_WORKER"))))
        urls = _postgres_database(suffix)
        _migrate(base_config(urls["app"], urls["owner"]))
        return {**urls, "backend": "postgresql"}
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    url = f"sqlite:///{template}"
    _migrate(base_config(url, url))
    return {"template": template, "backend": "sqlite"}


_EMPTY_ALL = """DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('DELETE FROM public.%I', r.tablename);
    END LOOP;
    FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER SEQUENCE public.%I RESTART', r.sequencename);
    END LOOP;
END $$"""


@functools.cache
def _superuser_engine(admin_url) -> sa.Engine:
    """One pool for the worker's emptying after each test (a new connection each time took 20 ms of its 26)."""
    return sa.create_engine(admin_url, pool_pre_ping=True)


def _empty_all(admin_url) -> None:
    """Empty every table and restart its numbering after a test. DELETE, not TRUNCATE: TRUNCATE gives each table
    and index a new file (some 60 ms a test), where deleting the few rows a test wrote takes a few. As the
    superuser, with triggers (foreign keys included) off for the transaction and row-level security bypassed."""
    with _superuser_engine(admin_url).begin() as connection:
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text(_EMPTY_ALL))


@pytest.fixture(scope="session")
def snapshot_signing_key(tmp_path_factory) -> str:
    """The PEM file of the key that signs the tests' snapshots (made once; production-mode apps need it there)."""
    path = tmp_path_factory.mktemp("keys") / "snapshot-signing-key.pem"
    load_signing_key(str(path), create=True)
    return str(path)


@pytest.fixture
def app_config(database, tmp_path, snapshot_signing_key) -> dict:
    """The configuration of this test's app, on a database of its own (SQLite) or emptied after it."""
    if database["backend"] == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(database["template"], path)
        config = base_config(f"sqlite:///{path}", f"sqlite:///{path}")
    else:
        config = base_config(database["app"], database["owner"])
    return {**config, "SNAPSHOT_SIGNING_KEY": snapshot_signing_key}


@pytest.fixture
def app(app_config, database):
    application = create_app(app_config)
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    if database["backend"] == "postgresql":
        _empty_all(database["admin"])


class ServerLikeClient(FlaskClient):
    """Runs each request in a fresh context, as a server would: nothing of the test's own app context
    (its session, ``g``, the current tenant) leaks into the request."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = ServerLikeClient
    return app.test_client()


@pytest.fixture
def db(app):
    """The database session, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.rollback()


@pytest.fixture
def postgres(database):
    """Skip (or fail in CI) unless the suite runs on PostgreSQL."""
    if database["backend"] != "postgresql":
        cannot_run("postgres", "needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test")
    return database


@pytest.fixture
def app_engine(postgres):
    """A connection pool as the app role (row-level security and its grants apply), for raw SQL."""
    engine = sa.create_engine(postgres["app"])
    yield engine
    engine.dispose()


_numbers = itertools.count(1)


@pytest.fixture
def make_tenant(db):
    """Create and commit a tenant, on the Enterprise plan (every feature) unless ``plan`` names another."""

    def make(slug: str | None = None, name: str | None = None, kind=TenantKind.CORPORATION, plan: str = "enterprise",
             **settings):
        n = next(_numbers)
        tenant = registry.create_tenant(slug or f"tenant{n}", name or f"Tenant {n}", kind, **settings)
        plans.grant(tenant, plan)
        db.session.commit()
        return tenant

    return make


@pytest.fixture
def movement(app, db):
    """The HeForShe movement, open: its row, and the people pepper its gate asks for (rate limits are on)."""
    app.config["PEOPLE_PEPPER"] = "test-people-pepper-" + "p" * 24
    tenant, _ = ensure_movement()
    db.session.commit()
    return tenant


@pytest.fixture
def make_unit(db):
    """Create and commit a unit of a tenant."""

    def make(tenant: Tenant, name: str = "Paris office", kind=UnitKind.OFFICE, country: str | None = "FR",
             parent: Unit | None = None, external_key: str | None = None) -> Unit:
        with tenant_context(tenant):
            unit = Unit(name=name, kind=kind, country_code=country, parent_id=parent.id if parent else None,
                        external_key=external_key)
            db.session.add(unit)
            db.session.commit()
            db.session.refresh(unit)
            db.session.expunge(unit)  # keeps its loaded values, so tests may read them outside the tenant
        return unit

    return make


@pytest.fixture
def make_commitment(db, app):
    """Commit through the sign-up service as ``tenant``; returns whether it counted."""

    def make(tenant: Tenant, email: str | None = None, gender: Gender = Gender.MAN, country: str = "FR",
             unit: Unit | None = None, **fields) -> bool:
        with tenant_context(tenant):
            counted = signups.commit(signups.SignUp(
                email=email or f"person{uuid.uuid4().hex[:12]}@example.org", gender=gender, country_code=country,
                **signups.unit_fields(unit), language="en", consent_version="2026-11", **fields))
            db.session.commit()
        return counted

    return make


@pytest.fixture
def sign_in_as(app, db):
    """Sign a client (or, with ``page=``, a browser tab) in as a new member of ``tenant`` with ``role``;
    returns the member's id. Goes through a route that exists only in the tests' app."""

    @app.get("/test-sign-in/<uuid:member_id>")
    @app.get("/me/test-sign-in/<uuid:member_id>")  # on the movement's pages of the global host
    def test_sign_in(member_id):
        via = Via.EMAIL_LINK if g.tenant.is_movement else Via.SSO
        sign_in(_db.session.scalars(select(Member).where(Member.id == member_id)).one(), via)
        return "signed in"

    def sign(tenant: Tenant, role: Role = Role.ADMIN, email: str | None = None, client=None, page=None):
        """A movement's member (``movement``) is signed in on the global host, as by an emailed link."""
        with tenant_context(tenant):
            member = members.find_or_create_member(email or f"{role.value}{next(_numbers)}@{tenant.slug}.example")
            member.role = role
            db.session.commit()
            member_id = member.id
            domain = app.config["BASE_DOMAIN"]
            host = domain if tenant.is_movement else f"{tenant.slug}.{domain}"
            path = f"/me/test-sign-in/{member_id}" if tenant.is_movement else f"/test-sign-in/{member_id}"
        if page is not None:
            page.goto(f"http://{host}:{page.port}{path}")
        else:
            assert client.get(path, base_url=f"http://{host}").status_code == 200
        return member_id

    return sign


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free loopback port; yields the port."""
    # The request lines go unlogged: a browser's last request (a favicon) can outlive the test whose output
    # they would be written to.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless chromium, driven by playwright; every *.hfs.test name resolves to loopback."""
    if not Path(CHROMIUM).exists():
        cannot_run("browser", "needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--host-resolver-rules=MAP *.{BASE_DOMAIN} 127.0.0.1, MAP {BASE_DOMAIN} 127.0.0.1",
        ])
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (phone-sized), recording every host it asks for in ``page.hosts_asked``."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    tab = context.new_page()
    tab.hosts_asked = set()
    tab.on("request", lambda request: tab.hosts_asked.add(urlsplit(request.url).hostname))
    tab.port = live_server
    yield tab
    context.close()


AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe():
    """Run axe-core's WCAG 2.1 A/AA rules on a page; returns the serious and critical violations."""
    if not AXE.exists():
        cannot_run("browser", "needs axe-core from npm: run `npm ci`")

    def check(tab) -> list[str]:
        tab.evaluate(AXE.read_text())  # evaluated by the browser directly, so the page's strict CSP stays on
        result = tab.evaluate("""async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
        return [f"{v['id']}: {v['help']} ({len(v['nodes'])} elements)" for v in result["violations"]
                if v["impact"] in ("serious", "critical")]

    return check


@pytest.fixture(scope="session")
def weasyprint():
    """WeasyPrint, which draws the action kits' and posters' PDFs with Debian's Pango and HarfBuzz."""
    try:
        import weasyprint as loaded
    except OSError as error:
        cannot_run("pdf", "needs Pango and HarfBuzz for WeasyPrint (apt-get install libpango-1.0-0 "
                          f"libpangoft2-1.0-0 libharfbuzz-subset0): {error}")
    return loaded
