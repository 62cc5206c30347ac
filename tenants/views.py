"""A tenant's public pages: its branded sign-up page, the thank-you page, its logo and favicon."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user

from core import auth
from core.i18n import is_country_code
from tenants import rollup
from tenants.forms import SignedInCommitForm, SignupForm
from tenants.models import Gender, Source
from tenants.services import places, public, signups

bp = Blueprint("tenants", __name__, template_folder="templates")


def browser_country() -> str | None:
    """The country of the browser's preferred language, when it names one (``fr-CA``: Canada)."""
    for language, _ in request.accept_languages:
        region = language.replace("_", "-").split("-")[-1].upper() if "-" in language or "_" in language else ""
        if is_country_code(region):
            return region
    return None


def _require_tenant() -> None:
    if g.get("tenant") is None:
        abort(404)


def signup_page(unit_id: uuid.UUID | None = None):
    """The branded sign-up form (``/`` on a tenant's host), optionally with a unit chosen already."""
    _require_tenant()
    unit = public.unit_in_tenant(unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        abort(404)
    if auth.signed_in_via() is auth.Via.SSO:
        return _signed_in_commitment()
    form = SignupForm()
    if unit is not None and not form.is_submitted():
        form.unit.data = str(unit.id)
        form.country.data = unit.country_code
    elif not form.is_submitted():
        form.country.data = browser_country()
    if form.validate_on_submit():
        language = str(get_locale())
        city, place_id = places.locate(form.country.data, form.city.data or None, form.place_id, language)
        signups.commit(signups.SignUp(
            email=form.email.data, gender=Gender(form.gender.data), country_code=form.country.data,
            language=language, consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
            name=form.name.data or None, name_public=form.name_public.data,
            gender_description=form.gender_description.data or None, city=city, place_id=place_id,
            unit_id=form.unit_id,
        ))
        return redirect(url_for("tenants.thanks"), code=303)
    form.offer_units(public.signup_units())
    return render_template(
        "tenants/signup.html", form=form, texts=public.tenant_texts(str(get_locale())),
        counts=rollup.tenant_counts(), privacy_version=current_app.config["PRIVACY_NOTICE_VERSION"],
    ), 400 if form.is_submitted() else 200


def _signed_in_commitment():
    """One click for someone signed in through their organisation: name, email and unit came from it (the
    commitment counts as verified when the identity provider vouched for the address)."""
    member = current_user
    member_unit = public.unit_in_tenant(member.unit_id) if member.unit_id else None
    form = SignedInCommitForm()
    if not form.is_submitted():
        form.country.data = (member_unit.country_code if member_unit else None) or browser_country()
    if form.validate_on_submit():
        language = str(get_locale())
        city, place_id = places.locate(form.country.data, form.city.data or None, form.place_id, language)
        signups.commit(signups.SignUp(
            email=member.email, gender=Gender(form.gender.data), country_code=form.country.data,
            language=language, consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
            name=member.display_name, name_public=form.name_public.data,
            gender_description=form.gender_description.data or None, city=city, place_id=place_id,
            unit_id=member.unit_id, source=Source.SSO, verified=session.get("sso_email_verified") is True,
        ))
        return redirect(url_for("tenants.thanks"), code=303)
    return render_template(
        "tenants/signup.html", form=form, member=member, member_unit=member_unit,
        committed=signups.has_committed(member), texts=public.tenant_texts(str(get_locale())),
        counts=rollup.tenant_counts(), privacy_version=current_app.config["PRIVACY_NOTICE_VERSION"],
    ), 400 if form.is_submitted() else 200


@bp.route("/units/<uuid:unit_id>", methods=["GET", "POST"])
def unit_signup(unit_id: uuid.UUID):
    """A sign-up link for one office, site or campus (for a poster or an intranet page)."""
    return signup_page(unit_id)


@bp.get("/thanks")
def thanks():
    """The same page for every successful or repeated commitment: it reveals nothing about the email."""
    _require_tenant()
    return render_template("tenants/thanks.html", texts=public.tenant_texts(str(get_locale())),
                           counts=rollup.tenant_counts())


@bp.get("/logo")
def logo():
    """The tenant's logo, as uploaded (re-encoded on upload)."""
    _require_tenant()
    if g.tenant.logo is None:
        abort(404)
    response = current_app.response_class(g.tenant.logo, mimetype=g.tenant.logo_mime)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/favicon")
def favicon():
    """The tenant's favicon, as uploaded (re-encoded as a small PNG on upload)."""
    _require_tenant()
    if g.tenant.favicon is None:
        abort(404)
    response = current_app.response_class(g.tenant.favicon, mimetype=g.tenant.favicon_mime)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
