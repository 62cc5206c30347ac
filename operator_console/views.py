"""The public application to join (``/join``) and the operator console (``/operator``), both on the global host
only: on a tenant's host neither exists (404)."""

from __future__ import annotations

import uuid
from functools import wraps

from babel import Locale
from flask import (Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from core.extensions import host_and_address, limiter, network_key
from core.i18n import LANGUAGES
from core.params import page_number
from core.templating import site_url
from core.tenancy import tenant_context
from operator_console import oidc, services
from operator_console.forms import (APPLICATION_STATUS_LABELS, KIND_NAMES, STATUS_LABELS, ApplicationForm,
                                    BreakGlassForm, ConfirmForm, KitForm, ReasonForm, TenantFilterForm, kit_form)
from operator_console.models import ApplicationKind, ApplicationStatus
from tenants import plans
from tenants.actions import services as actions
from tenants.actions.forms import ButtonForm
from tenants.kits import services as kits
from tenants.kits.vocabulary import AUDIENCES, PILLARS
from tenants.services import movement

join = Blueprint("join", __name__, url_prefix="/join", template_folder="templates")
bp = Blueprint("operator_console", __name__, url_prefix="/operator", template_folder="templates")

_SESSION_KEY = "operator"


def _global_host_only() -> None:
    """Neither the application nor the console exists on a tenant's host (nor on the movement's pages)."""
    if g.get("tenant") is not None:
        abort(404)


join.before_request(_global_host_only)
bp.before_request(_global_host_only)


# --- Bring HeForShe to your organisation --------------------------------------------------------------------------

@join.route("/", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["APPLICATION_RATE_LIMIT"], key_func=network_key, methods=["POST"],
               deduct_when=lambda response: response.status_code < 400)
def apply():
    """The application form; a refused one is shown again with every value kept and each problem named."""
    form = ApplicationForm()
    if form.validate_on_submit():
        services.apply(form.organisation.data, ApplicationKind(form.kind.data), form.country.data, form.website.data,
                       form.contact_name.data, form.contact_email.data, form.subdomain.data, str(get_locale()))
        return redirect(url_for("join.thanks"), code=303)
    return render_template("operator_console/join.html", form=form,
                           base_domain=current_app.config["BASE_DOMAIN"]), 400 if form.is_submitted() else 200


@join.get("/thanks")
def thanks():
    return render_template("operator_console/join_thanks.html")


@join.get("/subdomain.json")
@limiter.limit(lambda: current_app.config["SUBDOMAIN_CHECK_RATE_LIMIT"], key_func=host_and_address)
def subdomain_check():
    """Whether a subdomain could be had now (the form's script asks as one types): ``invalid``, ``taken`` or
    ``available``, with a sentence to show. The form asks again when it is sent."""
    found = services.subdomain_state(request.args.get("name", "")[:100])
    response = jsonify(state=found.state, message=found.message)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Signing operators in and out ---------------------------------------------------------------------------------

def current_operator():
    """The operator this session signed in, or None."""
    if "operator" not in g:
        named = session.get(_SESSION_KEY)
        found = None
        if isinstance(named, list) and len(named) == 2 and all(isinstance(part, int) for part in named):
            found = services.session_operator(*named)
        g.operator = found
    return g.operator


def operator_required(view):
    """An operator's page: anyone else is sent to sign in. A POST's CSRF token is checked first (400)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if request.method == "POST" and not ConfirmForm().validate_on_submit():
            abort(400)
        if current_operator() is None:
            return redirect(url_for("operator_console.sign_in"))
        return view(*args, **kwargs)

    return guarded


def _sign_in(operator, via: str) -> None:
    session.clear()  # a fresh session: no fixation, and nothing of a movement's sign-in rides along
    session[_SESSION_KEY] = [operator.id, operator.session_version]
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()
    services.record(operator.email, "operator.sign_in", via=via)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["OPERATOR_SIGN_IN_RATE_LIMIT"], key_func=host_and_address,
               methods=["POST"])
def sign_in():
    """Through the team's identity provider, or break-glass (password and TOTP code) when it is down."""
    form = BreakGlassForm()
    failed = False
    if form.validate_on_submit():
        operator = services.verify_break_glass(form.email.data, form.password.data, form.code.data)
        if operator is not None:
            _sign_in(operator, "break_glass")
            return redirect(url_for("operator_console.applications"), code=303)
        failed = True
        services.record(None, "operator.sign_in_refused", form.email.data[:200], via="break_glass")
    # A refused attempt answers 200 on purpose: its failure count must be committed (see core.app).
    return render_template("operator_console/sign_in.html", form=form, failed=failed,
                           oidc_configured=oidc.configured()), 400 if form.errors else 200


@bp.get("/sign-in/oidc")
def oidc_begin():
    if not oidc.configured():
        abort(404)
    try:
        return oidc.begin(url_for("operator_console.oidc_callback", _external=True))
    except oidc.SignInRefused as error:
        current_app.logger.warning("operator sign-in: %s", error)
        return _refused_page()


@bp.get("/sign-in/oidc/callback")
@limiter.limit(lambda: current_app.config["OPERATOR_SIGN_IN_RATE_LIMIT"], key_func=host_and_address)
def oidc_callback():
    if not oidc.configured():
        abort(404)
    try:
        email = oidc.finish()
    except oidc.SignInRefused as error:
        current_app.logger.warning("operator sign-in refused: %s", error)
        return _refused_page()
    operator = services.operator_by_email(email)
    if operator is None:
        services.record(None, "operator.sign_in_refused", email[:200], via="oidc")
        return _refused_page()
    _sign_in(operator, "oidc")
    return redirect(url_for("operator_console.applications"), code=303)


def _refused_page():
    """The refusal is committed (200 with the sign-in page): the audit log keeps who tried."""
    flash(_("That sign-in did not work. Only HeForShe operators may open the console."))
    return render_template("operator_console/sign_in.html", form=BreakGlassForm(formdata=None), failed=False,
                           oidc_configured=oidc.configured()), 200


@bp.post("/sign-out")
@operator_required
def sign_out():
    services.record(current_operator().email, "operator.sign_out")
    session.clear()
    return redirect(url_for("operator_console.sign_in"), code=303)


# --- The applications queue ---------------------------------------------------------------------------------------

@bp.get("/")
@operator_required
def home():
    return redirect(url_for("operator_console.applications"))


@bp.get("/applications")
@operator_required
def applications():
    """The applications waiting (or, by ``status``, those decided), oldest first."""
    try:
        status = ApplicationStatus(request.args.get("status", ApplicationStatus.PENDING.value))
    except ValueError:
        status = ApplicationStatus.PENDING
    page = page_number()
    rows, has_more = services.applications(status, page)
    return render_template("operator_console/applications.html", rows=rows, status=status, page=page,
                           has_more=has_more, statuses=APPLICATION_STATUS_LABELS, kinds=KIND_NAMES)


def _application(application_id: uuid.UUID):
    return services.find_application(application_id) or abort(404)


@bp.get("/applications/<uuid:application_id>")
@operator_required
def application(application_id: uuid.UUID):
    found = _application(application_id)
    return _application_page(found, ReasonForm(formdata=None))


def _application_page(found, reject_form: ReasonForm, problem: str | None = None, code: int = 200):
    return render_template("operator_console/application.html", application=found, approve_form=ConfirmForm(),
                           reject_form=reject_form, problem=problem, kinds=KIND_NAMES,
                           subdomain=services.subdomain_state(found.subdomain, found), statuses=APPLICATION_STATUS_LABELS,
                           base_domain=current_app.config["BASE_DOMAIN"]), code


@bp.post("/applications/<uuid:application_id>/approve")
@operator_required
def approve(application_id: uuid.UUID):
    """Create the tenant and invite its first admin by a single-use link."""
    found = _application(application_id)
    try:
        tenant = services.approve(found, current_operator().email, _invite_admin)
    except services.Refused as refusal:
        return _application_page(found, ReasonForm(formdata=None), problem=str(refusal), code=409)
    flash(_("%(name)s is a partner now, at %(slug)s. Its first admin, %(email)s, was invited by mail.",
            name=tenant.name, slug=tenant.slug, email=found.contact_email))
    return redirect(url_for("operator_console.applications"), code=303)


def _invite_admin(tenant, email: str) -> None:
    """The portal's invitation, its link on the new tenant's address as this request reaches the site (scheme,
    port)."""
    current_app.extensions["operator_console"]["invite_admin"](tenant, email, site_url(tenant.slug))


@bp.post("/applications/<uuid:application_id>/reject")
@operator_required
def reject(application_id: uuid.UUID):
    """Turn the application down; its contact is mailed the reason."""
    found = _application(application_id)
    form = ReasonForm()
    if not form.validate():
        return _application_page(found, form, code=400)
    try:
        services.reject(found, current_operator().email, form.reason.data)
    except services.Refused as refusal:
        return _application_page(found, form, problem=str(refusal), code=409)
    flash(_("The application of %(name)s was rejected; %(email)s was mailed the reason.",
            name=found.organisation, email=found.contact_email))
    return redirect(url_for("operator_console.applications"), code=303)


# --- Tenants ------------------------------------------------------------------------------------------------------

@bp.get("/tenants")
@operator_required
def tenants():
    """Every partner, searchable and filtered by kind, status and country, a page at a time."""
    form = TenantFilterForm(request.args)
    filters = form.filters()
    page = page_number()
    rows, total = services.tenants_page(filters, page)
    return render_template("operator_console/tenants.html", form=form, rows=rows, total=total, page=page,
                           has_more=page * services.PER_PAGE < total, per_page=services.PER_PAGE,
                           filters=filters, kinds=KIND_NAMES, statuses=STATUS_LABELS)


def _tenant(slug: str):
    return services.find_tenant(slug) or abort(404)


@bp.get("/tenants/<slug>")
@operator_required
def tenant(slug: str):
    return _tenant_page(_tenant(slug), ReasonForm(formdata=None))


def _tenant_page(found, form: ReasonForm, problem: str | None = None, code: int = 200):
    return render_template("operator_console/tenant.html", partner=found, form=form, problem=problem,
                           standing=services.standing(found), plan=plans.plan_of(found), statuses=STATUS_LABELS,
                           kinds=KIND_NAMES,
                           base_domain=current_app.config["BASE_DOMAIN"]), code


def _change_tenant(slug: str, change, done):
    """Change a tenant as ``change(tenant, operator, reason)`` does, saying why; then say ``done``."""
    found = _tenant(slug)
    form = ReasonForm()
    if not form.validate():
        return _tenant_page(found, form, code=400)
    try:
        change(found, current_operator().email, form.reason.data)
    except services.Refused as refusal:
        return _tenant_page(found, form, problem=str(refusal), code=409)
    flash(done % {"name": found.name})
    return redirect(url_for("operator_console.tenant", slug=found.slug), code=303)


@bp.post("/tenants/<slug>/suspend")
@operator_required
def suspend(slug: str):
    """Its pages show a neutral page; nothing is deleted, and its commitments still count."""
    return _change_tenant(slug, lambda tenant, who, why: services.set_suspended(tenant, True, who, why),
                          _l("%(name)s is suspended: its pages show a neutral page. Nothing was deleted."))


@bp.post("/tenants/<slug>/reactivate")
@operator_required
def reactivate(slug: str):
    return _change_tenant(slug, lambda tenant, who, why: services.set_suspended(tenant, False, who, why),
                          _l("%(name)s is active again."))


@bp.post("/tenants/<slug>/sponsor")
@operator_required
def sponsor(slug: str):
    """No charge (a government, an NGO...)."""
    return _change_tenant(slug, lambda tenant, who, why: services.set_sponsored(tenant, True, who, why),
                          _l("%(name)s is sponsored."))


@bp.post("/tenants/<slug>/unsponsor")
@operator_required
def unsponsor(slug: str):
    return _change_tenant(slug, lambda tenant, who, why: services.set_sponsored(tenant, False, who, why),
                          _l("%(name)s is no longer sponsored."))


# --- Action kits ----------------------------------------------------------------------------------------------------

@bp.get("/kits")
@operator_required
def kits_index():
    """Every kit, published or not, with the languages it has."""
    return render_template("operator_console/kits.html", kits=kits.all_kits(), audiences=AUDIENCES, pillars=PILLARS)


@bp.get("/kits/coverage")
@operator_required
def kits_coverage():
    """Which kit lacks which translation, or has one older than its English text."""
    return render_template("operator_console/kits_coverage.html", rows=kits.coverage(), languages=_languages())


def _languages() -> dict[str, str]:
    """The six languages, named in the page's."""
    return {code: Locale.parse(code).get_display_name(get_locale()) for code in LANGUAGES}


def _kit_page(form: KitForm, kit=None, problem: str | None = None):
    status = 400 if form.errors or problem else 200
    return render_template("operator_console/kit_form.html", form=form, kit=kit, problem=problem,
                           languages=_languages()), status


def _save_kit(form: KitForm, kit=None):
    """Save the form's kit (``kit`` None: a new one), note it in the audit log and go back to the list."""
    try:
        saved, languages = kits.save_kit(kit, form.slug.data if kit is None else kit.slug, form.audience.data,
                                         form.pillar.data, form.published.data, form.texts())
    except kits.KitRefused as refusal:
        return _kit_page(form, kit, str(refusal))
    services.record(current_operator().email, "kit.created" if kit is None else "kit.changed", saved.slug,
                    published=saved.published, languages=languages)
    flash(_("The kit “%(slug)s” is saved.", slug=saved.slug))
    return redirect(url_for("operator_console.kits_index"), code=303)


@bp.route("/kits/new", methods=["GET", "POST"])
@operator_required
def kit_new():
    form = kit_form()
    if form.validate_on_submit():
        return _save_kit(form)
    return _kit_page(form)


@bp.route("/kits/<int:kit_id>", methods=["GET", "POST"])
@operator_required
def kit_edit(kit_id: int):
    """A kit's settings and its words in each language (its address never changes: links to it stay good)."""
    kit = kits.find_kit(kit_id) or abort(404)
    data = {"slug": kit.slug, "audience": kit.audience, "pillar": kit.pillar, "published": kit.published,
            **{f"text_{text.language}": {"title": text.title, "summary": text.summary, "body": text.body}
               for text in kit.translations}}
    form = kit_form(data=data)
    form.slug.data = kit.slug  # shown, never changed
    if form.validate_on_submit():
        return _save_kit(form, kit)
    return _kit_page(form, kit)


@bp.get("/audit")
@operator_required
def audit():
    """Everything operators did, newest first."""
    page = page_number()
    entries, has_more = services.audit_page(page)
    return render_template("operator_console/audit.html", entries=entries, page=page, has_more=has_more)


@bp.context_processor
def _operator():
    """Who is signed in, for the console's menu, and its sign-out button."""
    operator = current_operator()
    return {"operator": operator, "console_sign_out": ConfirmForm() if operator else None}


# --- The movement's stories -------------------------------------------------------------------------------------

def _movement_stories():
    """The movement has no admins: its stories are read by the operators, in its context."""
    found = movement.find()
    if found is None:
        abort(404)
    return tenant_context(found)


@bp.get("/stories")
@operator_required
def stories():
    """The stories of people who committed on their own, waiting to be read for the movement's stories page."""
    with _movement_stories():
        return render_template("operator_console/stories.html", queue=actions.queue(), csrf_value=generate_csrf())


def _decide(story_id: uuid.UUID, publish: bool):
    with _movement_stories():
        story = actions.find_story(story_id) or abort(404)
        if not ButtonForm().validate_on_submit():
            abort(400)
        who = current_operator().email
        actions.decide(story, publish, who)
        services.record(who, "story.publish" if publish else "story.reject", story.text[:60], story_id=str(story.id))
    flash(_("The story is published.") if publish else _("The story is rejected."))
    return redirect(url_for("operator_console.stories"), code=303)


@bp.post("/stories/<uuid:story_id>/publish")
@operator_required
def publish_story(story_id: uuid.UUID):
    return _decide(story_id, True)


@bp.post("/stories/<uuid:story_id>/reject")
@operator_required
def reject_story(story_id: uuid.UUID):
    return _decide(story_id, False)
