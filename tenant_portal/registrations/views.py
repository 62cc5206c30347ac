"""Portal page: course registration (the opt-in text for the registration form, and a CSV upload for student
information systems that cannot call the API)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from tenant_portal.access import admin_required, gate, is_admin, viewer_required
from tenant_portal.registrations import services
from tenant_portal.registrations.forms import CheckFileForm, ImportFileForm, LaunchForm, WidgetForm

bp = Blueprint("portal_registrations", __name__, url_prefix="/portal/registrations")
gate(bp, "course_registration")
#: The opt-in a registration portal embeds (no session: a signed launch token names the student).
widget = Blueprint("registration_widget", __name__, url_prefix="/registration")


def _widget_form() -> WidgetForm:
    settings = services.widget()
    return WidgetForm(formdata=None, data={"public_key": settings.public_key,
                                           "origins": "\n".join(settings.embed_origins)} if settings else None)


def _page(form: CheckFileForm | None = None, plan: services.FilePlan | None = None,
          import_form: ImportFileForm | None = None, problem: str | None = None,
          widget_form: WidgetForm | None = None, widget_problem: str | None = None, status: int = 200):
    return render_template(
        "tenant_portal/registrations/index.html", form=form or CheckFileForm(formdata=None), plan=plan,
        import_form=import_form, problem=problem, texts=services.opt_in_texts(g.tenant), can_change=is_admin(),
        widget_form=widget_form or _widget_form(), widget_problem=widget_problem,
        widget_url=url_for("registration_widget.show", _external=True),
        max_token_minutes=services.MAX_TOKEN_SECONDS // 60,
        privacy_version=current_app.config["PRIVACY_NOTICE_VERSION"], columns=services.COLUMNS,
        max_records=services.MAX_RECORDS), status


@bp.get("")
@viewer_required
def index():
    """The opt-in text to paste into the registration form, and the file upload."""
    return _page()


@bp.post("")
@admin_required
def check():
    """Check a CSV file and list every problem by line, writing nothing (the dry run)."""
    request.max_content_length = services.MAX_CSV_BYTES + 64 * 1024
    try:
        form = CheckFileForm()
    except RequestEntityTooLarge:
        return _page(problem=_("This file is larger than 512 KiB: please split it."), status=413)
    if not form.validate_on_submit():
        return _page(form, status=400)
    data = form.file.data.read(services.MAX_CSV_BYTES + 1)
    if len(data) > services.MAX_CSV_BYTES:
        return _page(problem=_("This file is larger than 512 KiB: please split it."), status=413)
    plan = services.check_file(data)
    if not plan.ok:
        return _page(form, plan, status=400)
    return _page(plan=plan, import_form=ImportFileForm(formdata=None, data={"content": data.decode("utf-8-sig")}))


@bp.post("/import")
@admin_required
def import_file():
    """Import the checked file: each student who opted in counted once, however often the file comes."""
    request.max_content_length = request.max_form_memory_size = 2 * services.MAX_CSV_BYTES
    try:
        form = ImportFileForm()
    except RequestEntityTooLarge:
        abort(413)
    if not form.validate_on_submit():
        abort(400)
    plan = services.check_file(form.content.data)
    if not plan.ok:  # the units changed since the check: show what is wrong now
        return _page(plan=plan, status=400)
    tally = services.import_file(g.tenant, plan)
    flash(_("The file is imported: %(counted)s counted, %(repeats)s counted before, %(declined)s did not opt in.",
            counted=tally[services.Outcome.COUNTED], repeats=tally[services.Outcome.REPEAT],
            declined=tally[services.Outcome.NOT_OPTED_IN]))
    return redirect(url_for("portal_registrations.index"), code=303)


@bp.post("/widget")
@admin_required
def save_widget():
    """Keep the widget's public key and embedding origins."""
    form = WidgetForm()
    if not form.validate_on_submit():
        return _page(widget_form=form, status=400)
    try:
        services.save_widget(g.tenant, form.public_key.data, form.origins.data)
    except services.WidgetRefused as refusal:
        return _page(widget_form=form, widget_problem=str(refusal), status=400)
    flash(_("The opt-in's settings are saved."))
    return redirect(url_for("portal_registrations.index", _anchor="widget-title"), code=303)


@widget.before_request
def _on_a_partners_host():
    if g.get("tenant") is None or g.tenant.is_movement:
        abort(404)


def _in_frame(html: str, status: int = 200):
    """A widget page, which only the registered origins may frame."""
    response = current_app.make_response((html, status))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors {services.frame_ancestors()}; form-action 'self'; base-uri 'none'; object-src 'none'")
    response.headers["Cache-Control"] = "no-store"
    return response


@widget.get("/widget")
def show():
    """The opt-in for the student the launch token names: the pledge and one button (nothing is written)."""
    token = request.args.get("token", "")[:8_000]
    try:
        launch = services.read_launch(token, url_for("registration_widget.show", _external=True))
    except services.LaunchRefused as refusal:
        return _in_frame(render_template("tenant_portal/registrations/widget.html", refusal=str(refusal)), 400)
    return _in_frame(render_template("tenant_portal/registrations/widget.html", launch=launch,
                                     form=LaunchForm(formdata=None, data={"token": token})))


@widget.post("/widget")
def commit():
    """The student pressed "I commit": counted once, however often the token comes back."""
    form = LaunchForm()
    if not form.validate_on_submit():
        return _in_frame(render_template("tenant_portal/registrations/widget.html", refusal=_(
            "This link is not valid: please open the opt-in again from your registration page.")), 400)
    try:
        services.accept_launch(g.tenant, form.token.data, url_for("registration_widget.show", _external=True))
    except services.LaunchRefused as refusal:
        return _in_frame(render_template("tenant_portal/registrations/widget.html", refusal=str(refusal)), 400)
    return _in_frame(render_template("tenant_portal/registrations/widget.html", committed=True))
