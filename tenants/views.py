"""A tenant's public pages: its branded sign-up page, the thank-you page, its logo and favicon."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta, get_locale
from flask_limiter import RateLimitExceeded
from flask_login import current_user

from core import auth, errors
from core.extensions import client_network, limiter, network_key
from core.i18n import is_country_code
from core.rollup import services as rollup
from core.rollup.models import Gender, Source
from tenants.services import members, places, public, screening, signups
from tenants.forms import SignedInCommitForm, SignupForm
from tenants.models import Tenant

bp = Blueprint("tenants", __name__, template_folder="templates")


def browser_country() -> str | None:
    """The country of the browser's preferred language, when it names one (``fr-CA``: Canada)."""
    for language, _ in request.accept_languages:
        region = language.replace("_", "-").split("-")[-1].upper() if "-" in language or "_" in language else ""
        if is_country_code(region):
            return region
    return None


def require_tenant() -> Tenant:
    """The tenant of this host; there is none on the global site, where a tenant's page is not found (404)."""
    tenant = g.get("tenant")
    if tenant is None:
        abort(404)
    return tenant


def signup_page(unit_id: uuid.UUID | None = None):
    """The branded sign-up form (``/`` on a tenant's host), optionally with a unit chosen already."""
    require_tenant()
    unit = public.unit_in_tenant(unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        abort(404)
    if auth.signed_in_via() is auth.Via.SSO:
        return _signed_in_commitment()
    form = SignupForm()
    if not form.is_submitted():
        form.rendered.data = screening.render_stamp()
    if unit is not None and not form.is_submitted():
        form.unit.data = str(unit.id)
        form.country.data = unit.country_code
    elif not form.is_submitted():
        form.country.data = browser_country()
    if form.validate_on_submit():
        try:
            return _public_commit(form)
        except RateLimitExceeded:
            form.offer_units(public.signup_units())
            return _signup_form(form, retry_after=errors.retry_after())
    form.offer_units(public.signup_units())
    return _signup_form(form)


def _limit(setting: str):
    return lambda: current_app.config[setting]


def _tenant_key() -> str:
    return str(g.tenant.id)


def _domain_key() -> str:
    return f"{g.tenant.id}|{members.email_domain(request.form['email'])}"


# Counted for valid sign-ups only (a form refused for a typo costs nobody anything), in Redis across workers;
# the defaults and why: core/config.py.
@limiter.shared_limit(_limit("SIGNUP_RATE_LIMIT_NETWORK"), scope="sign-up network", key_func=network_key)
@limiter.shared_limit(_limit("SIGNUP_RATE_LIMIT_TENANT"), scope="sign-up tenant", key_func=_tenant_key)
@limiter.shared_limit(_limit("SIGNUP_RATE_LIMIT_DOMAIN"), scope="sign-up domain", key_func=_domain_key)
def _public_commit(form: SignupForm):
    """A commitment through the public form, with the signs of a script it shows (never refused for them)."""
    suspect = screening.suspect(form.website.data, form.rendered.data, members.email_domain(form.email.data))
    return _commit(form, email=form.email.data, name=form.name.data or None, unit_id=form.unit_id, suspect=suspect)


def _signed_in_commitment():
    """One click for someone signed in through their organisation: name, email and unit came from it (the
    commitment counts as verified when the identity provider vouched for the address)."""
    member = current_user
    member_unit = public.unit_in_tenant(member.unit_id) if member.unit_id else None
    form = SignedInCommitForm()
    if not form.is_submitted():
        form.country.data = (member_unit.country_code if member_unit else None) or browser_country()
    if form.validate_on_submit():
        return _commit(form, email=member.email, name=member.display_name, unit_id=member.unit_id,
                       source=Source.SSO, verified=session.get("sso_email_verified") is True)
    return _signup_form(form, member=member, member_unit=member_unit, committed=signups.has_committed(member))


def _commit(form: SignupForm | SignedInCommitForm, **person):
    """Record the commitment the form holds, made by ``person`` (email, name, unit, how, suspect reasons),
    with where it came from, and thank them."""
    language = str(get_locale())
    city, place_id = places.locate(form.country.data, form.city.data or None, form.place_id, language)
    signups.commit(signups.SignUp(
        gender=Gender(form.gender.data), country_code=form.country.data, language=language,
        consent_version=current_app.config["PRIVACY_NOTICE_VERSION"], name_public=form.name_public.data,
        gender_description=form.gender_description.data or None, city=city, place_id=place_id,
        client_network=client_network(), email_domain=members.email_domain(person["email"]), **person,
    ))
    return redirect(url_for("tenants.thanks"), code=303)


def _signup_form(form: SignupForm | SignedInCommitForm, retry_after: int | None = None, **context):
    """The sign-up page with its form: 400 when a submitted one is refused; 429, with what was typed and when to
    try again, when a rate limit holds it back."""
    page = render_template(
        "tenants/signup.html", form=form, texts=public.tenant_texts(str(get_locale())),
        counts=rollup.tenant_counts(), privacy_version=current_app.config["PRIVACY_NOTICE_VERSION"],
        retry_in=retry_after and format_timedelta(timedelta(seconds=retry_after), add_direction=True), **context,
    )
    if retry_after is not None:
        return page, 429, {"Retry-After": str(retry_after)}
    return page, 400 if form.is_submitted() else 200


@bp.route("/units/<uuid:unit_id>", methods=["GET", "POST"])
def unit_signup(unit_id: uuid.UUID):
    """A sign-up link for one office, site or campus (for a poster or an intranet page)."""
    return signup_page(unit_id)


@bp.get("/thanks")
def thanks():
    """The same page for every successful or repeated commitment: it reveals nothing about the email."""
    require_tenant()
    return render_template("tenants/thanks.html", texts=public.tenant_texts(str(get_locale())),
                           counts=rollup.tenant_counts())


@bp.get("/logo")
def logo():
    """The tenant's logo, as uploaded (re-encoded on upload)."""
    tenant = require_tenant()
    return _image(tenant.logo, tenant.logo_mime)


@bp.get("/favicon")
def favicon():
    """The tenant's favicon, as uploaded (re-encoded as a small PNG on upload)."""
    tenant = require_tenant()
    return _image(tenant.favicon, tenant.favicon_mime)


def _image(data: bytes | None, mimetype: str | None):
    """An uploaded image, which browsers and proxies may keep for five minutes; 404 when there is none."""
    if data is None:
        abort(404)
    response = current_app.response_class(data, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
