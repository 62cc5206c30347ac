"""Sign-in through the tenant's identity provider, the SAML service provider's endpoints, and sign-out."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from core import auth
from core.extensions import limiter, network_key
from core.navigation import continue_to
from core.templating import site_url
from core.views import global_page
from tenants.models import Role
from tenants.sso import oidc, saml, services
from tenants.sso.forms import DiscoveryForm, SignOutForm
from tenants.sso.models import Protocol, SsoConnection
from tenants.sso.services import SsoError
from tenants.views import require_tenant

bp = Blueprint("sso", __name__, url_prefix="/sso", template_folder="templates")
# Returns from the identity provider, per client network: each makes a request to the provider (OpenID) or checks
# a signature (SAML), and the commitment it may lead to is counted. Past the limit: 429 and Retry-After.
callback_limit = limiter.shared_limit(lambda: current_app.config["SSO_CALLBACK_RATE_LIMIT"], scope="sso callback",
                                      key_func=network_key)


def _connection(protocol: Protocol | None = None, enabled_only: bool = True) -> SsoConnection:
    require_tenant()
    conn = services.connection(enabled_only=enabled_only)
    if conn is None or (protocol is not None and conn.protocol is not protocol):
        abort(404)
    return conn


def local_path(target: str | None) -> str | None:
    """Only a path on this same host may be returned to after sign-in (no open redirect), and one short
    enough to keep (a pending SAML sign-in stores it in 500 characters)."""
    if not target or len(target) > 500 or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # not an address at all (an unclosed "[", say)
        return None
    return None if parts.scheme or parts.netloc else target


def start(conn: SsoConnection, purpose: str, next_url: str | None, login_hint: str | None = None):
    """Send the browser to the identity provider (for a sign-in, or an admin's connection test)."""
    try:
        if conn.protocol is Protocol.OIDC:
            session["sso_flow"] = {"purpose": purpose, "next": next_url}
            return oidc.begin(conn, url_for("sso.oidc_callback", _external=True), login_hint)
        return redirect(saml.begin(conn, purpose, next_url))
    except SsoError as error:
        return _failed(conn, error)


@bp.get("/login")
def login():
    """"Sign in with <organisation>": off to the identity provider."""
    conn = _connection()
    return start(conn, "login", local_path(request.args.get("next")), request.args.get("login_hint"))


@bp.get("/oidc/initiate")
def oidc_initiate():
    """A tile of the organisation's app launcher (Entra My Apps, the Okta dashboard): OpenID Connect's
    third-party-initiated login. Only a fresh sign-in of our own starts, and only for the organisation's issuer."""
    conn = _connection(Protocol.OIDC)
    if request.args.get("iss", "").rstrip("/") != (conn.oidc_issuer or "").rstrip("/"):
        return _failed(conn, SsoError("the app launcher named another issuer than this organisation's"))
    try:
        target = urlsplit(request.args.get("target_link_uri", "")[:2000])
        next_url = local_path(target.path) if target.netloc in ("", request.host) else None
    except ValueError:  # not an address at all
        next_url = None
    return start(conn, "login", next_url, request.args.get("login_hint"))


@bp.post("/discover")
def discover():
    """Home-realm discovery on the global page: an address whose domain belongs to a partner with single
    sign-on goes to that partner's sign-in; any other goes back with a pointer to the partners' own pages."""
    if g.get("tenant") is not None:
        abort(404)
    form = DiscoveryForm()
    tenant = services.discover(form.email.data) if form.validate_on_submit() else None
    if tenant is not None:  # on another host: see core.navigation
        return continue_to(f"{site_url(tenant.slug)}sso/login?{urlencode({'login_hint': form.email.data})}")
    return global_page(form, discovery_missed=not form.errors), 400 if form.errors else 200


@bp.get("/oidc/callback")
@callback_limit
def oidc_callback():
    """The OpenID provider sends the browser back here with a code (or an error)."""
    conn = _connection(Protocol.OIDC, enabled_only=False)
    flow = session.pop("sso_flow", None) or {"purpose": "login", "next": None}
    try:
        identity, id_token = oidc.finish(conn)
    except SsoError as error:
        return _failed(conn, error)
    # This flow's purpose came from this browser's session: a test needs its admin still signed in here.
    if flow["purpose"] == "test" and not (auth.signed_in_via() in auth.PORTAL_SIGN_INS
                                          and current_user.role is Role.ADMIN):
        abort(403)
    return _complete(conn, identity, flow["purpose"], flow["next"], {"id_token": id_token})


@bp.post("/saml/acs")
@callback_limit
def saml_acs():
    """The SAML identity provider POSTs its signed answer here. That cross-site POST carries no SameSite=Lax
    cookie, so nothing here reads the session: the one-time RelayState names the request we made, its purpose
    and where to go next. A "test" request exists only because an admin of this tenant started it (its CSRF-
    protected form); its result is kept for the settings page, where the admin's next, same-site, request sees it."""
    conn = _connection(Protocol.SAML, enabled_only=False)
    pending = services.take_request(request.form.get("RelayState"))
    if pending is None and saml.unsolicited(request.form.get("SAMLResponse", "")):
        # Started from the organisation's app launcher (IdP-initiated): such an answer proves nothing about this
        # browser, so none is accepted; a sign-in of our own starts instead, which the provider answers at once.
        return redirect(url_for("sso.login"), code=303)
    try:
        identity, logout = saml.finish(conn, pending)
    except SsoError as error:
        if pending is not None and pending.purpose == "test":
            services.record_failure(conn, error)  # shown on the settings page; the admin's session is left alone
            return _test_done()
        return _failed(conn, error)
    return _complete(conn, identity, pending.purpose, pending.next_url, {"saml": logout})


@bp.get("/saml/metadata")
def saml_metadata():
    """Our service provider's metadata (entity id, ACS, signing certificate) for the identity provider."""
    conn = _connection(Protocol.SAML, enabled_only=False)
    return saml.metadata(conn), 200, {"Content-Type": "application/samlmetadata+xml"}


@bp.get("/saml/sls")
def saml_sls():
    """The identity provider's answer to our logout request: the person is signed out here already."""
    _connection(Protocol.SAML, enabled_only=False)
    return redirect(url_for("core.home"))


def _complete(conn: SsoConnection, identity: services.Identity, purpose: str, next_url: str | None,
              logout: dict):
    if purpose == "test":
        services.record_test(conn, identity)
        return _test_done()
    try:
        member = services.sign_in_member(conn, identity)
    except SsoError as error:
        return _failed(conn, error)
    auth.sign_in(member, auth.Via.SSO)
    session["sso_logout"] = logout
    session["sso_email_verified"] = services.address_trusted(conn, identity)
    return redirect(next_url or url_for("core.home"), code=303)


def _test_done():
    return redirect(url_for("tenant_portal.sso_settings") + "#test-result", code=303)


def _failed(conn: SsoConnection, error: SsoError):
    # A redirect, not an error status: the admin's copy of the details must be committed.
    services.record_failure(conn, error)
    session["sso_error"] = error.reason
    return redirect(url_for("sso.failed"), code=303)


@bp.get("/failed")
def failed():
    """A polite explanation for the person; the details wait on the admin's settings page."""
    _connection(enabled_only=False)
    reason = session.pop("sso_error", "failed")
    message = services.USER_MESSAGES.get(reason, services.USER_MESSAGES["failed"])
    return render_template("sso/failed.html", message=message), 403


@bp.post("/logout")
def logout():
    """Sign out here, and offer the identity provider's own sign-out where it has one."""
    require_tenant()
    if not SignOutForm().validate_on_submit():
        abort(400)
    idp_logout = None
    conn = services.connection()
    details = session.get("sso_logout") or {}
    home = url_for("core.home", _external=True)
    if conn is not None and current_user.is_authenticated:
        if conn.protocol is Protocol.OIDC and "id_token" in details:
            idp_logout = oidc.logout_url(conn, details["id_token"], home)
        elif conn.protocol is Protocol.SAML and "saml" in details:
            idp_logout = saml.logout_url(conn, details["saml"], home)
    auth.sign_out()
    return render_template("sso/signed_out.html", idp_logout=idp_logout, conn=conn)
