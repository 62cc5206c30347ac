"""The portal's own pages (``/portal`` on a tenant's host): admin sign-in, single sign-on settings, the audit log."""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from core import auth
from core.extensions import host_and_address, limiter
from core.navigation import continue_to
from core.params import page_number
from tenants.models import EmailConfirmation
from tenants.services import registry
from tenants.services.public import signup_units
from tenants.services.registry import InvalidTenantSetting
from tenants.sso import break_glass, oidc, presets, saml
from tenants.sso import services as sso
from tenants.sso import views as sso_views
from tenants.sso.models import Protocol
from tenants.views import require_tenant
from tenant_portal import NAVIGATION
from tenant_portal import audit as audit_log
from tenant_portal import services as portal
from tenant_portal.access import admin_required, gate, viewer_required
from tenant_portal.confirmation import require_confirmation
from tenant_portal.forms import BreakGlassForm, ConfirmForm, EmailConfirmationForm, SsoSettingsForm

bp = Blueprint("tenant_portal", __name__, url_prefix="/portal", template_folder="templates")
# Changing the single sign-on settings; a connection made before keeps signing people (and admins) in, and email
# confirmation, on the same page, is in every plan.
gate(bp, "sso", lambda: request.endpoint in {"tenant_portal.test_connection", "tenant_portal.check_domain"} or (
    request.endpoint == "tenant_portal.sso_settings" and request.method == "POST"))


def navigation() -> dict:
    """The portal menu's entries that exist, for the portal's layout."""
    entries = [(endpoint, label) for endpoint, label in NAVIGATION if endpoint in current_app.view_functions]
    return {"portal_navigation": entries}


@bp.get("/")
@viewer_required
def home():
    """The portal opens on the dashboard."""
    return redirect(url_for("portal_dashboard.show"))


@bp.get("/audit")
@admin_required
def audit():
    """Who changed which setting, when."""
    page = page_number()
    entries, has_more = portal.audit_log(page)
    return render_template("tenant_portal/audit.html", lines=audit_log.describe(entries), page=page,
                           has_more=has_more)


@bp.get("/audit.csv")
@admin_required
def audit_csv():
    """The whole audit log as a spreadsheet, in the reader's language."""
    filename, text = audit_log.export(g.tenant)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.route("/sso", methods=["GET", "POST"])
@admin_required
def sso_settings():
    """Connect the tenant's identity provider; shows the values its administrator needs."""
    conn = sso.connection()
    form = SsoSettingsForm(signup_units(), data=_form_values(conn) if conn else None)
    preset = presets.PRESETS.get(form.preset.data) if form.fill.data else None
    if preset is not None:
        # Fills the form only: nothing is saved until the admin checks it and presses "Save".
        for name, value in presets.values(preset, form.admin_group.data).items():
            form[name].data = value
    elif form.validate_on_submit():
        before = _audited(conn) if conn else None  # configure() changes conn itself
        try:
            sso.configure(g.tenant, Protocol(form.protocol.data), _mapping(form), enabled=form.enabled.data,
                          oidc=_oidc_settings(form), saml=_saml_settings(form))
        except InvalidTenantSetting as error:
            form.form_errors.append(str(error))
        else:
            portal.record("sso.settings", form.protocol.data, issuer=form.oidc_issuer.data or None,
                          enabled=form.enabled.data, admin_group=form.admin_group.data or None, before=before)
            flash(_("The sign-in settings are saved. Use “Test connection” to try them."))
            return redirect(url_for("tenant_portal.sso_settings"), code=303)
    return _sso_page(conn, form, preset=preset)


def _audited(conn) -> dict:
    """The settings the audit log shows old → new, as they are before a change."""
    return {"protocol": conn.protocol.value, "issuer": conn.oidc_issuer or None, "enabled": conn.enabled,
            "admin_group": conn.admin_group or None}


def _sso_page(conn, form: SsoSettingsForm, preset=None, confirmation_form: EmailConfirmationForm | None = None):
    """The sign-in settings page (400 when one of its forms was refused)."""
    confirmation_form = confirmation_form or EmailConfirmationForm(
        formdata=None, data={"mode": g.tenant.email_confirmation.value})
    refused = form.errors or form.form_errors or confirmation_form.errors
    return render_template(
        "tenant_portal/sso.html", form=form, conn=conn, test_form=ConfirmForm(), unmapped=sso.unmapped_units(),
        saml_endpoints=saml.endpoints(), oidc_redirect_uri=url_for("sso.oidc_callback", _external=True),
        sign_out_redirect_uri=url_for("core.home", _external=True), sign_on_url=url_for("sso.login", _external=True),
        initiate_login_uri=url_for("sso.oidc_initiate", _external=True),
        preset=preset, hints=sso.ADMIN_HINTS,
        domain_claims=sso.domain_claims(g.tenant), check_domain_form=ConfirmForm(),
        confirmation_form=confirmation_form,
    ), 400 if refused else 200


@bp.post("/sso/email-confirmation")
@admin_required
def email_confirmation():
    """Whether people who commit by the sign-up form confirm their address by mail: off, optional or required.
    A change applies to commitments made from then on."""
    form = EmailConfirmationForm()
    if not form.validate_on_submit():
        conn = sso.connection()
        return _sso_page(conn, SsoSettingsForm(signup_units(), formdata=None,
                                               data=_form_values(conn) if conn else None), confirmation_form=form)
    previous, mode = g.tenant.email_confirmation, EmailConfirmation(form.mode.data)
    if mode is not previous:
        registry.configure(g.tenant, email_confirmation=mode)
        portal.record("signup.email_confirmation", mode.value, previous=previous.value)
    flash(_("The email confirmation setting is saved. It applies to commitments made from now on."))
    return redirect(url_for("tenant_portal.sso_settings", _anchor="email-confirmation"), code=303)


def _form_values(conn) -> dict:
    return {
        "protocol": conn.protocol.value, "enabled": conn.enabled, "oidc_issuer": conn.oidc_issuer,
        "oidc_client_id": conn.oidc_client_id, "oidc_scopes": conn.oidc_scopes,
        "saml_metadata_url": conn.saml_idp_metadata_url, "saml_metadata_xml": conn.saml_idp_metadata_xml,
        "claim_email": conn.claim_email, "claim_name": conn.claim_name, "claim_unit": conn.claim_unit,
        "claim_groups": conn.claim_groups, "admin_group": conn.admin_group,
        "allowed_domains": "\n".join(conn.allowed_domains or []),
        "default_unit": str(conn.default_unit_id) if conn.default_unit_id else "",
    }


def _mapping(form: SsoSettingsForm) -> sso.Mapping:
    return sso.Mapping(
        email=form.claim_email.data, name=form.claim_name.data or "name", unit=form.claim_unit.data or None,
        groups=form.claim_groups.data or "groups", admin_group=form.admin_group.data or None,
        allowed_domains=form.domains,
        default_unit_id=uuid.UUID(form.default_unit.data) if form.default_unit.data else None)


def _oidc_settings(form: SsoSettingsForm) -> sso.OidcSettings | None:
    if form.protocol.data != Protocol.OIDC.value:
        return None
    oidc.check_issuer(form.oidc_issuer.data)
    return sso.OidcSettings(form.oidc_issuer.data, form.oidc_client_id.data, form.oidc_client_secret.data or None,
                            form.oidc_scopes.data or "openid email profile")


def _saml_settings(form: SsoSettingsForm) -> sso.SamlSettings | None:
    if form.protocol.data != Protocol.SAML.value:
        return None
    xml = form.saml_metadata_xml.data or saml.fetch_metadata(form.saml_metadata_url.data)
    saml.parse_metadata(xml)
    return sso.SamlSettings(xml, form.saml_metadata_url.data or None)


@bp.post("/sso/domains/<domain>/check")
@admin_required
def check_domain(domain: str):
    """Look for an email domain's TXT record now; once found, the global page sends its people here."""
    claim = sso.find_claim(g.tenant, domain) or abort(404)
    require_confirmation()
    newly = claim.verified_at is None
    try:
        sso.check_domain(claim)
    except InvalidTenantSetting as error:
        flash(str(error))
    else:
        if newly:
            portal.record("sso.domain_proven", claim.domain)
        flash(_("%(domain)s is proven: people who type an address there on the HeForShe page are sent to your "
                "sign-in.", domain=claim.domain))
    return redirect(url_for("tenant_portal.sso_settings", _anchor="email-domains"), code=303)


@bp.post("/sso/test")
@admin_required
def test_connection():
    """Go through the identity provider once; what it sends is shown on the settings page."""
    conn = sso.connection()
    if conn is None or not ConfirmForm().validate_on_submit():
        abort(400)
    return continue_to(sso_views.start(conn, "test", None).location)  # to the identity provider: see core.navigation


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BREAK_GLASS_RATE_LIMIT"], key_func=host_and_address,
               methods=["POST"])
def sign_in():
    """How admins sign in: through the identity provider, or (if the operator turned it on) break-glass."""
    require_tenant()
    next_url = sso_views.local_path(request.args.get("next")) or url_for("tenant_portal.home")
    form = BreakGlassForm() if g.tenant.break_glass_enabled else None
    failed = False
    if form is not None and form.validate_on_submit():
        member = break_glass.verify(g.tenant, form.email.data, form.password.data, form.code.data)
        if member is not None:
            auth.sign_in(member, auth.Via.BREAK_GLASS)
            return redirect(next_url, code=303)
        failed = True
    # A refused attempt answers 200 on purpose: its failure count must be committed (see core.app).
    return render_template("tenant_portal/sign_in.html", form=form, failed=failed, next_url=next_url,
                           conn=sso.connection(enabled_only=True)), 400 if form is not None and form.errors else 200
