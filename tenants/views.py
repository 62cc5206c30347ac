"""A tenant's public pages: its branded sign-up page (the movement's at ``/commit`` on the global host), the
thank-you page, its logo and favicon."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale, format_timedelta, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from html import escape

from core import attack_mode, auth, maps, page_cache, ratelimits
from core.extensions import client_network, host_and_address, limiter, network_key
from core.i18n import available_languages, is_country_code
from core.rollup.models import Gender, Source
from tenants.actions import services as actions
from tenants.services import (confirmations, hosts, members, places, public, screening, share_card, sharing,
                              signups)
from tenants.forms import AgeAskingSignupForm, ConfirmCommitmentForm, SignedInCommitForm, SignupForm
from tenants.models import EmailConfirmation, Tenant, Unit

bp = Blueprint("tenants", __name__, template_folder="templates")


def browser_country() -> str | None:
    """The country of the browser's preferred language, when it names one (``fr-CA``: Canada)."""
    for language, _quality in request.accept_languages:
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


def require_movement() -> Tenant:
    """The movement, on its pages of the global host; anywhere else (a partner's host) nothing is found (404)."""
    tenant = require_tenant()
    if not tenant.is_movement:
        abort(404)
    return tenant


@bp.app_template_global("signup_url")
def signup_url() -> str:
    """The address of this site's sign-up form: the movement's on its pages, else the home page."""
    tenant = g.get("tenant")
    return url_for("tenants.movement_signup") if tenant is not None and tenant.is_movement else url_for("core.home")


def _counts():
    """The counts a sign-up or thank-you page shows: its tenant's, or everyone's on the movement's pages."""
    return maps.site_counts(None if g.tenant.is_movement else g.tenant, ())


def signup_page(unit_id: uuid.UUID | None = None):
    """The branded sign-up form (``/`` on a tenant's host), optionally with a unit chosen already."""
    tenant = require_tenant()
    unit = public.unit_in_tenant(unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        abort(404)
    if auth.signed_in_via() is auth.Via.SSO:
        return _signed_in_commitment()
    challenged = tenant.attack_mode or attack_mode.everywhere()
    if request.method != "POST":
        country = unit.country_code if unit is not None else browser_country()
        if current_user.is_anonymous:
            return _blank_signup_page(unit, country, challenged)
        return _signup_form(_blank_form(unit, country, challenged), challenged=challenged)
    form = _new_form(challenged)
    if form.validate_on_submit():
        # Folded once (NFKC and IDNA cost more than the rest of the screening): for the limit, the screening and
        # the row alike. None under the age of digital consent: nothing about the person is kept.
        domain = None if tenant.ask_age and form.under_age else members.email_domain(form.email.data)
        retry_after = ratelimits.count(*_signup_limits(domain))
        if retry_after is None:
            return _public_commit(form, domain)
        form.offer_units(public.signup_units())
        return _signup_form(form, retry_after=retry_after)
    form.offer_units(public.signup_units())
    return _signup_form(form, challenged=form.challenged)


def _new_form(challenged: bool) -> SignupForm:
    form = AgeAskingSignupForm() if g.tenant.ask_age else SignupForm()
    form.challenged = challenged
    return form


def _blank_form(unit: Unit | None, country: str | None, challenged: bool, shown: str | None = None) -> SignupForm:
    """The form as the page first shows it: the unit of its link chosen, the country suggested, and when it was
    shown (``shown``: the visit's own, else now)."""
    form = _new_form(challenged)
    form.rendered.data = shown or screening.render_stamp()
    if unit is not None:
        form.choose_unit(unit)
    form.country.data = country
    form.offer_units(public.signup_units())
    return form


def _blank_signup_page(unit: Unit | None, country: str | None, challenged: bool):
    """The sign-up page as every anonymous visitor of this address sees it in this language (with the country
    their browser suggests), kept rendered until the site's settings change (core/page_cache.py); only the form's
    CSRF token, the time it was shown and the counts of the moment are put in for each visit, so a visit builds no
    form. Answered with an ETag (the page, the counts and the session's token), so that a browser asking again
    gets 304 while it may use its copy: private, as the form holds the session's own token."""
    tenant, language = g.tenant, str(get_locale())
    fingerprint = hosts.settings_fingerprint(tenant)
    key = ("sign-up", tenant.id, fingerprint, request.host, request.path, language, country, challenged)
    shown = screening.render_stamp()

    def render() -> str:
        form = _blank_form(unit, country, challenged, shown)
        return page_cache.render("tenants/signup.html", ("counts",), **_signup_context(form, challenged=challenged))

    counts = _counts_block("tenants/signup.html", "counts", fingerprint, language)
    kept = page_cache.page(key, render, {"csrf": generate_csrf(), "shown": shown, "counts": counts})
    return page_cache.answer(kept, counts, *page_cache.session_token())


def _counts_block(template: str, block: str, fingerprint: str, language: str):
    """A block of a page's template that shows the site's counts (its counter, its published target), rendered at
    most once a second per site and language and put into each visit's copy of the kept page."""
    return page_cache.fragment((template, block, g.tenant.id, fingerprint, language), template, block,
                               lambda: {"counts": _counts()})


def _signup_limits(email_domain: str | None) -> list[ratelimits.Limit]:
    """A valid sign-up's limits (a form refused for a typo costs nobody anything): per client network, per
    organisation, and per email domain at the organisation (those who gave no address count together). The
    defaults and why: core/config.py."""
    config, tenant_id = current_app.config, str(g.tenant.id)
    return [
        ratelimits.Limit(config["SIGNUP_RATE_LIMIT_NETWORK"], "sign-up network", network_key()),
        ratelimits.Limit(config["SIGNUP_RATE_LIMIT_TENANT"], "sign-up tenant", tenant_id),
        ratelimits.Limit(config["SIGNUP_RATE_LIMIT_DOMAIN"], "sign-up domain", f"{tenant_id}|{email_domain or ''}"),
    ]


def _public_commit(form: SignupForm, email_domain: str | None):
    """A commitment through the public form, with the signs of a script it shows (never refused for them)."""
    if email_domain is None:  # under the age of digital consent: nothing about the person is kept
        return _commit(form, email=None, name=None, unit_id=form.unit_id, department_id=form.department_id,
                       suspect=screening.suspect(form.website.data, form.rendered.data, ""))
    suspect = screening.suspect(form.website.data, form.rendered.data, email_domain)
    return _commit(form, email=form.email.data, name=form.name.data or None, unit_id=form.unit_id,
                   department_id=form.department_id, suspect=suspect, email_domain=email_domain)


def _signed_in_commitment():
    """One click for someone signed in through their organisation: name, email and unit came from it (the
    commitment counts as verified when the identity provider vouched for the address)."""
    member = current_user
    member_unit = public.unit_in_tenant(member.unit_id) if member.unit_id else None
    form = SignedInCommitForm()
    if not form.is_submitted():
        form.country.data = (member_unit.country_code if member_unit else None) or browser_country()
    if form.validate_on_submit():
        return _commit(form, email=member.email, name=member.display_name, **signups.unit_fields(member_unit),
                       source=Source.SSO, verified=session.get("sso_email_verified") is True)
    return _signup_form(form, member=member, member_unit=member_unit, committed=signups.has_committed(member))


def _commit(form: SignupForm | SignedInCommitForm, email_domain: str | None = None, **person):
    """Record the commitment the form holds, made by ``person`` (email, name, unit, how, suspect reasons), with
    where it came from, and thank them; when the tenant asks for it, mail them a link to confirm it (new or
    repeated alike: the page reveals nothing)."""
    language = str(get_locale())
    city, place_id = places.locate(form.country.data, form.city.data or None, form.place_id, language)
    signup = signups.SignUp(
        gender=Gender(form.gender.data), country_code=form.country.data, language=language,
        consent_version=current_app.config["PRIVACY_NOTICE_VERSION"], name_public=form.name_public.data,
        gender_description=form.gender_description.data or None, city=city, place_id=place_id,
        client_network=client_network(), pillar=form.pillar.data or None,
        email_domain=email_domain or (members.email_domain(person["email"]) if person["email"] else None),
        **person,
    )
    actions.after_commit(signup, signups.commit(signup), form.reminders.data)
    sharing.remember(signup.name, signup.country_code)
    if signup.email is None:  # under the age of digital consent: nothing to confirm, nowhere to write
        return redirect(url_for("tenants.thanks", anonymous=1), code=303)
    if signups.asks_for_confirmation(signup.source, signup.verified):
        confirmations.ask_to_confirm(g.tenant, signup.email, language)
        flash(_("Please check your email: unless you have confirmed your commitment before, we have sent you a "
                "link to confirm it. It works for 7 days.")
              if g.tenant.email_confirmation is EmailConfirmation.OPTIONAL else
              _("One more step: please check your email. Unless you have confirmed your commitment before, we "
                "have sent you a link to confirm it, and it counts once you have. The link works for 7 days."))
    return redirect(url_for("tenants.thanks"), code=303)


def _signup_form(form: SignupForm | SignedInCommitForm, retry_after: int | None = None, **context):
    """The sign-up page with its form: 400 when a submitted one is refused; 429, with what was typed and when to
    try again, when a rate limit holds it back."""
    page = render_template("tenants/signup.html", counts=_counts(),
                           **_signup_context(form, retry_after=retry_after, **context))
    if retry_after is not None:
        return page, 429, {"Retry-After": str(retry_after)}
    return page, 400 if form.is_submitted() else 200


def _signup_context(form: SignupForm | SignedInCommitForm, retry_after: int | None = None, **context) -> dict:
    """What the sign-up page shows besides its counts."""
    return dict(form=form, texts=public.tenant_texts(str(get_locale())),
                privacy_version=current_app.config["PRIVACY_NOTICE_VERSION"],
                retry_in=retry_after and format_timedelta(timedelta(seconds=retry_after), add_direction=True),
                **context)


@bp.route("/commit", methods=["GET", "POST"])
def movement_signup():
    """The movement's sign-up form, on the global host: for anyone who commits on their own, without a partner
    organisation (the country is its only place)."""
    require_movement()
    return signup_page()


@bp.route("/units/<uuid:unit_id>", methods=["GET", "POST"])
def unit_signup(unit_id: uuid.UUID):
    """A sign-up link for one office, site or campus (for a poster or an intranet page)."""
    return signup_page(unit_id)


@bp.get("/thanks")
def thanks():
    """The same page for every successful or repeated commitment: it reveals nothing about the email. After a
    commitment kept without personal data (``?anonymous=1``) it says so. It greets by first name once, right
    after the commitment, with their country on a small map (never kept by the browser or a proxy then), and
    offers to share the sign-up page. Everyone else's copy is kept rendered as the sign-up page is, with the counts
    of the moment, and may be kept by browsers and proxies (asking each time, with its ETag)."""
    tenant = require_tenant()
    name, country = sharing.thanked()
    plan = actions.thank_you_plan(tenant)
    language, anonymous = str(get_locale()), request.args.get("anonymous") == "1"
    address = share_address()
    text = (_("I have committed to gender equality with HeForShe. Join me:") if tenant.is_movement else
            _("I have committed to gender equality with HeForShe at %(name)s. Join me:", name=tenant.name))
    context = dict(texts=public.tenant_texts(language), anonymous=anonymous, share_address=address,
                   share_links=sharing.share_links(address, text, _("Join me in HeForShe")))
    if (name is not None or country is not None or plan is not None or session.get("_flashes")
            or current_user.is_authenticated):
        page = render_template("tenants/thanks.html", counts=_counts(), name=name, country=country, plan=plan,
                               place=maps.country_outline(country) if country else None, **context)
        return page, 200, {"Cache-Control": "no-store"}  # this one person's, once
    fingerprint = hosts.settings_fingerprint(tenant)
    blocks = {block: _counts_block("tenants/thanks.html", block, fingerprint, language)
              for block in ("counts", "target")}
    kept = page_cache.page(
        ("thanks", tenant.id, fingerprint, request.host, language, anonymous),
        lambda: page_cache.render("tenants/thanks.html", blocks, name=None, country=None, place=None, plan=None,
                                  **context),
        blocks)
    return page_cache.answer(kept, *blocks.values(), shared=True)


def share_address() -> str:
    """The absolute address of this site's sign-up page, the one worth sharing."""
    tenant = g.tenant
    return url_for("tenants.movement_signup" if tenant.is_movement else "core.home", _external=True)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONFIRMATION_RATE_LIMIT"], key_func=host_and_address, methods=["POST"])
def confirm_commitment(token: str):
    """The link of a confirmation mail: a page with a button, and only pressing it confirms the commitment.

    Confirming takes a click rather than the opening itself: mail filters open links to scan them.
    """
    require_tenant()
    form = ConfirmCommitmentForm()
    try:
        if form.validate_on_submit():
            confirmations.confirm(token)
            flash(_("Your commitment is confirmed. Thank you!"))
            return redirect(url_for("tenants.thanks"), code=303)
        confirmations.usable_commitment(token)
    except confirmations.LinkUnusable as unusable:
        return render_template("tenants/confirmation_unusable.html", reason=unusable.reason.value), unusable.status
    return render_template("tenants/confirm.html", form=form), 400 if form.is_submitted() else 200


@bp.get("/share-card.png")
def card():
    """The picture shown beside a shared link to this site (Open Graph), in ``?lang=`` (else the site's default
    language, whatever the visitor's): the tenant's name and pledge headline in its colours."""
    tenant = require_tenant()
    g.language_not_chosen = True  # a crawler's fetch in one language says nothing of the visitor's choice
    offered = available_languages()
    language = request.args.get("lang")
    if language not in offered:
        language = tenant.default_language if tenant.default_language in offered else offered[0]
    with force_locale(language):
        texts = public.tenant_texts(language)
        headline = (texts.headline if texts and texts.headline else None) or (
            _("Commit to gender equality with HeForShe") if tenant.is_movement else
            _("Join %(name)s in HeForShe", name=tenant.name))
        tagline = _("HeForShe is the UN Women solidarity movement for gender equality.")
    key = (tenant.id, language, hosts.settings_fingerprint(tenant), headline, tagline)
    png, etag = share_card.card(key, tenant.name, headline, tagline, language, tenant.primary_color,
                                tenant.accent_color)
    response = current_app.response_class(png, mimetype="image/png")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)


@bp.app_template_global("share_card_url")
def share_card_url() -> str:
    """The absolute address of this site's share card in the page's language."""
    return url_for("tenants.card", lang=str(get_locale()), _external=True)


@bp.get("/logo")
def logo():
    """The tenant's logo, as uploaded (re-encoded on upload)."""
    tenant = require_tenant()
    return _image(tenant.logo, tenant.logo_mime)


@bp.get("/hero")
def hero():
    """The sign-up page's hero image, as uploaded (re-encoded on upload); 404 while the tenant has none."""
    tenant = require_tenant()
    return _image(tenant.hero, tenant.hero_mime)


@bp.get("/partners/<slug>/logo")
def partner_logo(slug: str):
    """A listed partner's logo on the global host, for its partners wall (served from the page's own origin)."""
    if g.get("tenant") is not None and not g.tenant.is_movement:
        abort(404)
    partner = public.listed_partner(slug)
    if partner is None:
        abort(404)
    if partner.logo is None:  # a tile with the organisation's initial on its colour, so the wall stays even
        return _image(_letter_tile(partner.name, partner.primary_color), "image/svg+xml")
    return _image(partner.logo, partner.logo_mime)


def _letter_tile(name: str, color: str) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="150" height="40" viewBox="0 0 150 40">'
            f'<rect x="55" width="40" height="40" rx="8" fill="{escape(color)}"/>'
            f'<text x="75" y="28" font-family="sans-serif" font-size="24" font-weight="700" fill="#fff" '
            f'text-anchor="middle">{escape(name[:1].upper())}</text></svg>').encode()


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
