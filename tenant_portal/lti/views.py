"""The LTI page (``/portal/lti``: the tool's addresses, the platforms, the courses' units, refused launches) and
the tool's own routes, which the platform and its students' browsers call (no session: docs/lti.md)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.navigation import continue_to
from core.rollup.models import Gender
from tenant_portal.access import admin_required, gate, is_admin, viewer_required
from tenant_portal.lti import services, tool
from tenant_portal.lti.forms import CommitForm, CourseForm, PlatformForm
from tenants.models import Unit

bp = Blueprint("portal_lti", __name__, url_prefix="/portal/lti")
gate(bp, "course_registration")
#: What the learning platform and the students' browsers call.
tool_bp = Blueprint("lti", __name__, url_prefix="/lti")


def _addresses() -> dict:
    return {"login": url_for("lti.login", _external=True), "launch": url_for("lti.launch", _external=True),
            "jwks": url_for("lti.jwks", _external=True)}


def _page(form: PlatformForm | None = None, problem: str | None = None, status: int = 200):
    units = list(db.session.scalars(select(Unit).order_by(Unit.name)))
    platforms = [(platform, services.deployments(platform)) for platform in services.platforms()]
    return render_template("tenant_portal/lti/index.html", form=form or PlatformForm(formdata=None),
                           problem=problem, platforms=platforms, courses=services.courses(), units=units,
                           problems=services.problems(), addresses=_addresses(), can_change=is_admin(),
                           course_form=CourseForm), status


@bp.get("")
@viewer_required
def index():
    """The tool's addresses to copy into the platform, the registered platforms, courses and recent problems."""
    return _page()


@bp.post("")
@admin_required
def save_platform():
    """Register a learning platform (or change it)."""
    form = PlatformForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        services.register_platform(g.tenant, form.issuer.data, form.client_id.data, form.deployment_ids.data,
                                   form.key_set_url.data, form.auth_login_url.data, form.auth_token_url.data)
    except services.PlatformRefused as refusal:
        return _page(form, str(refusal), status=400)
    flash(_("The platform is registered."))
    return redirect(url_for("portal_lti.index"), code=303)


@bp.post("/course")
@admin_required
def save_course():
    """Give a course the unit its students commit in."""
    form = CourseForm()
    if not form.validate_on_submit() or services.set_course_unit(
            g.tenant, form.platform.data, form.context.data, form.unit.data or None) is None:
        abort(400)
    flash(_("The course's unit is saved."))
    return redirect(url_for("portal_lti.index", _anchor="courses-title"), code=303)


@tool_bp.before_request
def _on_a_partners_host():
    if g.get("tenant") is None or g.tenant.is_movement:
        abort(404)


def _in_frame(status: int = 200, **context):
    """A tool page, which only the registered platforms may frame."""
    return _frameable(current_app.make_response((render_template("tenant_portal/lti/tool.html", **context), status)))


def _frameable(response):
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors {services.frame_ancestors()}; form-action 'self'; base-uri 'none'; object-src 'none'")
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(refusal: services.LaunchRefused):
    if refusal.reason:
        services.note_problem(refusal.reason)
    return _in_frame(400, refusal=str(refusal))


@tool_bp.route("/login", methods=["GET", "POST"])
def login():
    """The platform's third-party-initiated login: on to its authentication request, with our state and nonce."""
    params = request.form if request.method == "POST" else request.args
    try:
        target = services.login(params, url_for("lti.launch", _external=True))
    except services.LaunchRefused as refusal:
        return _refused(refusal)
    return _frameable(continue_to(target))  # form-action 'self' would stop a redirect answering a posted login


@tool_bp.post("/launch")
def launch():
    """The platform's launch: checked, then the one-click commitment page."""
    try:
        data, token = services.launch(request.form)
    except services.LaunchRefused as refusal:
        return _refused(refusal)
    return _commit_page(data, token)


def _commit_page(data: services.LaunchData, token: str):
    return _in_frame(launch=data, form=CommitForm(formdata=None, data={"launch": token}),
                     new_window=url_for("lti.commit_page", launch=token))


@tool_bp.get("/commit")
def commit_page():
    """The same launch in a window of its own, where the platform's frame cannot show it."""
    token = request.args.get("launch", "")[:8_000]
    try:
        return _commit_page(services.read_launch(token), token)
    except services.LaunchRefused as refusal:
        return _refused(refusal)


@tool_bp.post("/commit")
def commit():
    """The student pressed "I commit"."""
    form = CommitForm()
    try:
        if not form.validate_on_submit():
            raise services.LaunchRefused("")
        services.commit(g.tenant, services.read_launch(form.launch.data),
                        gender=Gender(form.gender.data) if form.gender.data else Gender.UNDISCLOSED)
    except services.LaunchRefused as refusal:
        return _refused(refusal)
    return _in_frame(committed=True)


@tool_bp.get("/jwks")
def jwks():
    """The tool's public key set (empty until the first platform is registered)."""
    key = tool.tool_key()
    return jsonify({"keys": [tool.public_jwk(key)] if key else []})
