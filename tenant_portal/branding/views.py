"""Portal pages: branding (logo, favicon, colours, texts, languages, listing, custom domains)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from core.i18n import available_languages
from tenant_portal.access import admin_required, gate
from tenant_portal.branding import services
from tenant_portal.branding.forms import BrandingForm, DomainForm, FaviconForm, HeroForm, LogoForm, branding_form
from tenant_portal.confirmation import require_confirmation
from tenant_portal.forms import ConfirmForm

bp = Blueprint("portal_branding", __name__, url_prefix="/portal/branding")
# Domains already proven keep routing to the tenant: people reach its sign-up page whatever the plan.
gate(bp, "custom_domains", lambda: request.endpoint in {"portal_branding.add_domain", "portal_branding.verify_domain"})

#: The body of an upload may be this much larger than the file itself (the multipart envelope, the CSRF token).
UPLOAD_ENVELOPE_BYTES = 16 * 1024


def _initial_form() -> BrandingForm:
    languages = available_languages()
    data = {"primary_color": g.tenant.primary_color, "accent_color": g.tenant.accent_color,
            "enabled_languages": languages, "default_language": g.tenant.default_language, "listed": g.tenant.listed,
            "ask_age": g.tenant.ask_age}
    for code, texts in services.current_texts(languages).items():
        data[f"texts_{code}"] = vars(texts)
    return branding_form(languages, formdata=None, data=data)


def _page(form: BrandingForm | None = None, logo_form: LogoForm | None = None,
          favicon_form: FaviconForm | None = None, hero_form: HeroForm | None = None,
          domain_form: DomainForm | None = None, problem: str | None = None, status: int = 200):
    form = form or _initial_form()
    return render_template(
        "tenant_portal/branding/edit.html", form=form, problem=problem,
        logo_form=logo_form or LogoForm(formdata=None), favicon_form=favicon_form or FaviconForm(formdata=None),
        hero_form=hero_form or HeroForm(formdata=None),
        domain_form=domain_form or DomainForm(formdata=None), confirm_form=ConfirmForm(formdata=None),
        contrasts=services.contrasts(*_shown_colors(form)),
        thresholds={"aa": services.AA_CONTRAST, "minimum": services.MIN_CONTRAST}, domains=services.domains(g.tenant),
        defaults={code: services.default_texts(g.tenant, code) for code, _subform in form.text_fields},
        saved_texts=services.current_texts(available_languages()), verification_name=services.verification_name,
    ), status


def _shown_colors(form: BrandingForm) -> tuple[str, str]:
    """The colours the form holds when they are well formed, else the saved ones (the checks need real colours)."""
    primary, accent = form.primary_color, form.accent_color
    return (primary.data if primary.data and not primary.errors else g.tenant.primary_color,
            accent.data if accent.data and not accent.errors else g.tenant.accent_color)


def _back_to(anchor: str | None = None):
    return redirect(url_for("portal_branding.edit", _anchor=anchor), code=303)


@bp.route("", methods=["GET", "POST"])
@admin_required
def edit():
    """The branding page: colours (with contrast checks), languages, listing, texts; the logo, favicon and
    domains have their own forms on it."""
    if request.method == "GET":
        return _page()
    form = branding_form(available_languages())
    if not form.validate_on_submit():
        return _page(form, status=400)
    settings = services.BrandingSettings(
        primary_color=form.primary_color.data, accent_color=form.accent_color.data,
        enabled_languages=form.enabled_languages.data, default_language=form.default_language.data,
        listed=form.listed.data, ask_age=form.ask_age.data,
        texts={code: services.Texts(**subform.data) for code, subform in form.text_fields})
    try:
        warnings = services.update_branding(g.tenant, settings)
    except services.BrandingRefused as refusal:
        return _page(form, problem=str(refusal), status=400)
    flash(_("The branding is saved. Your sign-up page shows it now."))
    for warning in warnings:
        flash(warning)
    return _back_to()


def _upload(form_class: type[LogoForm] | type[FaviconForm] | type[HeroForm], save, saved: str):
    """Read an uploaded image (allowing a larger body than other forms) and hand it to ``save``; on success say
    ``saved`` and go back to its panel, else show the page that refuses it."""
    request.max_content_length = services.MAX_UPLOAD_BYTES + UPLOAD_ENVELOPE_BYTES
    name = {LogoForm: "logo", FaviconForm: "favicon", HeroForm: "hero"}[form_class]
    try:
        form = form_class()
    except RequestEntityTooLarge:
        # The body is left unread; every other form on the page (the header's sign-out) then sees an empty one.
        request.__dict__.update(form=request.parameter_storage_class(), files=request.parameter_storage_class())
        form = form_class(formdata=None)
        form[name].errors = [_("This file is too large: the limit is 2 MB.")]
        return _page(**{f"{name}_form": form}, status=413)
    if not form.validate_on_submit():
        return _page(**{f"{name}_form": form}, status=400)
    upload = form[name].data
    try:
        save(g.tenant, upload.read(services.MAX_UPLOAD_BYTES + 1), upload.filename)
    except services.BrandingRefused as refusal:
        form[name].errors = [str(refusal)]
        return _page(**{f"{name}_form": form}, status=400)
    flash(saved)
    return _back_to(f"{name}-title")


def _remove(name: str, remove, removed: str):
    """Remove the logo or the favicon once the button's token checks out."""
    require_confirmation()
    remove(g.tenant)
    flash(removed)
    return _back_to(f"{name}-title")


@bp.post("/logo")
@admin_required
def upload_logo():
    """Replace the logo (re-encoded on the server)."""
    return _upload(LogoForm, services.set_logo, _("The new logo is saved."))


@bp.post("/favicon")
@admin_required
def upload_favicon():
    """Replace the favicon (re-encoded as a small PNG)."""
    return _upload(FaviconForm, services.set_favicon, _("The new favicon is saved."))


@bp.post("/hero")
@admin_required
def upload_hero():
    """Replace the sign-up page's hero image (re-encoded on the server)."""
    return _upload(HeroForm, services.set_hero, _("The new image is saved. Your sign-up page shows it now."))


@bp.post("/hero/remove")
@admin_required
def remove_hero():
    """Go back to the HeForShe hero image."""
    return _remove("hero", services.remove_hero, _("The image is removed: your sign-up page shows HeForShe's."))


@bp.post("/logo/remove")
@admin_required
def remove_logo():
    """Show the organisation's name in the header again."""
    return _remove("logo", services.remove_logo, _("The logo is removed: the header shows your organisation's name."))


@bp.post("/favicon/remove")
@admin_required
def remove_favicon():
    """Go back to the HeForShe favicon."""
    return _remove("favicon", services.remove_favicon, _("The favicon is removed."))


@bp.post("/domains")
@admin_required
def add_domain():
    """Add a custom domain; it routes to the tenant once its DNS record proves ownership."""
    form = DomainForm()
    if not form.validate_on_submit():
        return _page(domain_form=form, status=400)
    try:
        entry = services.add_domain(g.tenant, form.hostname.data)
    except services.BrandingRefused as refusal:
        form.hostname.errors = [str(refusal)]
        return _page(domain_form=form, status=400)
    flash(_("%(hostname)s is added. Create its DNS record, then choose “Verify”.", hostname=entry.hostname))
    return _back_to(f"domain-{entry.id}")


def _confirmed_domain(hostname_id: int):
    """The custom domain a confirming button names: 404 when the tenant has no such domain, 400 without a valid
    token."""
    entry = services.find_domain(g.tenant, hostname_id) or abort(404)
    require_confirmation()
    return entry


@bp.post("/domains/<int:hostname_id>/verify")
@admin_required
def verify_domain(hostname_id: int):
    """Look up the domain's TXT record; when it holds the code, the domain starts routing here."""
    entry = _confirmed_domain(hostname_id)
    try:
        services.verify_domain(entry)
    except services.BrandingRefused as refusal:
        return _page(problem=str(refusal), status=400)
    flash(_("%(hostname)s is verified: it now leads to your sign-up page.", hostname=entry.hostname))
    return _back_to(f"domain-{entry.id}")


@bp.post("/domains/<int:hostname_id>/remove")
@admin_required
def remove_domain(hostname_id: int):
    """Detach a custom domain: it stops leading to the sign-up page."""
    entry = _confirmed_domain(hostname_id)
    hostname = entry.hostname
    services.remove_domain(entry)
    flash(_("%(hostname)s is removed.", hostname=hostname))
    return _back_to("domains-title")
