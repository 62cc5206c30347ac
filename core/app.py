"""The application factory: the one composition root, which builds the app from every package (core, tenants,
tenant_portal, billing, operator_console) and so is the one module of core that imports the packages above it."""

from __future__ import annotations

import gc
import threading
from functools import partial
from uuid import UUID

import click
from flask import Flask, abort, current_app, g, request, session
from flask_login import AnonymousUserMixin
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

import billing
import operator_console
import tenant_portal
import tenants
from core import (cli, errors, i18n, live, load_shedding, maps, page_cache, params, places, ratelimits, rollup,
                  signals, snapshots, stats, templating, tenancy, views, worker)
from core import config as config_module
from core.database import refuse_privileged_role
from core.extensions import babel, db, limiter, login_manager, migrate
from core.snapshots import keys as snapshot_keys
from tenant_portal.members.services import invite_first_admin
from tenant_portal.services import record as record_in_audit_log
from tenants.models import Member
from tenants.services.hosts import match_host


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by ``config`` (tests pass theirs)."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.from_environment())
    app.config.update(config or {})
    _refuse_unsafe_production_settings(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.MIGRATIONS), render_as_batch=True)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.anonymous_user = AnonymousUserMixin
    login_manager.user_loader(_load_member)

    app.before_request(_resolve_tenant)
    limiter.init_app(app)  # after the tenant is known: limits are counted per host
    ratelimits.init_app(app)
    app.before_request(params.refuse_nul_bytes)
    app.teardown_request(_forget_tenant)
    app.after_request(_commit_or_roll_back)
    app.after_request(i18n.remember_language)
    app.after_request(_security_headers)
    errors.init_app(app)
    signals.init_app(app)
    worker.init_app(app)
    stats.init_app(app)
    page_cache.init_app(app)
    live.init_app(app, partial(_live_snapshot, app))
    templating.init_app(app)

    tenants.init_app(app)
    tenant_portal.init_app(app)
    operator_console.init_app(app, invite_admin=invite_first_admin)
    billing.init_app(app, record_audit=record_in_audit_log)
    app.register_blueprint(views.bp)
    rollup.init_app(app)
    snapshots.init_app(app)
    cli.init_app(app)

    if app.config["PRODUCTION"]:
        _check_database_role(app)
    if not app.testing and click.get_current_context(silent=True) is None:  # a process that serves, not a command
        threading.Thread(target=_warm_up, args=(app,), name="warm-up", daemon=True).start()
    if app.config["PROXY_COUNT"]:  # the client's address and scheme as the proxies in front saw them
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    load_shedding.init_app(app)  # last: it wraps everything above
    return app


def _warm_up(app: Flask) -> None:
    """Build the place table at start, not during someone's first city search (about 1.5 s of CPU), and load what
    the portal loads on first use (SCIM, the API's document: about another second); then leave everything built so
    far out of the garbage collector's full passes. Those objects live as long as the process, and walking them (the
    modules, the place table) paused a request for about 100 ms each time. Commands, which seldom need any of it,
    start without it."""
    places.get(0)
    with app.app_context():
        tenant_portal.load_before_serving(app)
    gc.freeze()


def _refuse_unsafe_production_settings(app: Flask) -> None:
    if not app.config["PRODUCTION"]:
        return
    if app.config["SECRET_KEY"] in ("", config_module.DEFAULT_SECRET) or len(app.config["SECRET_KEY"]) < 32:
        raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters in production")
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        raise RuntimeError("production runs on PostgreSQL: set DATABASE_URL to a postgresql+psycopg:// URL")
    if not app.config["ENCRYPTION_KEYS"]:
        raise RuntimeError("ENCRYPTION_KEYS must be set in production (Fernet keys for secrets at rest)")
    snapshot_keys.check_signing_key(app.config)  # the daily snapshots are signed: no key, no start
    if len(app.config["PEOPLE_PEPPER"]) < 32 or app.config["PEOPLE_PEPPER"] == app.config["SECRET_KEY"]:
        raise RuntimeError("PEOPLE_PEPPER must be set in production to a random value of at least 32 characters, "
                           "other than SECRET_KEY (it recognises one person across tenants: see docs/operations.md)")


def _check_database_role(app: Flask) -> None:
    """Refuse a privileged database role on every connection, and open one now, so that a wrong role stops the
    start. A database that cannot be reached now (restarting) does not stop it: gunicorn shuts every worker
    down when one fails to start, so a worker replaced during a database outage would otherwise take the whole
    site down until someone restarts it."""
    with app.app_context():
        refuse_privileged_role(db.engine)
        try:
            db.engine.connect().close()
        except OperationalError as error:
            app.logger.warning("the database cannot be reached at start; each connection is checked as it "
                               "opens: %s", error.orig)


#: What a host that names no site still serves: the stylesheets and icon of its page saying so (the same on every
#: host, and they read no tenant).
_ON_ANY_HOST = frozenset({"core.static", "core.brand_css"})


def _resolve_tenant():
    """Find the site the Host header names (on the global host, the path: the movement's pages) before anything
    else runs; unknown hosts get 404, on a page that leads to the global site, and a suspended tenant's host a
    neutral page (404 too) that says nothing of why."""
    match = match_host(request.host, current_app.config["BASE_DOMAIN"], request.path)
    if match is None or match.suspended:
        g.tenant = None
        if request.endpoint in _ON_ANY_HOST:
            return
        g.unknown_site = True  # core.errors answers with the page for it: a neutral one for a suspended tenant
        g.suspended_site = match is not None
        abort(404)
    g.tenant = match.tenant
    g.tenant_token = tenancy.activate(match.tenant.id if match.tenant else None)
    # A session is only good on the host that made it (cookies are host-only; this is the second lock).
    if session.get("tenant") not in (None, match.session_tenant_id):
        session.clear()


def _forget_tenant(exc=None):
    token = g.pop("tenant_token", None)
    if token is not None:
        tenancy.deactivate(token)


def _commit_or_roll_back(response):
    """The one place a request's work is committed: after the view succeeded, before the answer leaves."""
    if response.status_code < 400 or g.get("keep_refusal"):  # a refusal whose reason is kept (LTI)
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _live_snapshot(app: Flask, channel: str) -> dict:
    """The live hub's unit of work, outside any request: a channel's snapshot, committed, so that a copy of the
    counts it released (core/rollup/steps.py) stands."""
    with app.app_context(), tenancy.tenant_context(live.tenant_of(channel)):
        snapshot = maps.channel_snapshot(channel)
        db.session.commit()
        return snapshot


def _load_member(session_id: str):
    """The member a session names (``Member.get_id``), if it is still theirs: a session made before the
    member's sessions were ended (sign-out, role change, new credentials) names an old version."""
    if g.get("tenant") is None:
        return None
    member_id, _, version = session_id.partition(":")
    try:
        member_uuid, version_number = UUID(member_id), int(version)
    except ValueError:
        return None
    return db.session.scalars(select(Member).where(
        Member.id == member_uuid, Member.session_version == version_number)).one_or_none()


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
