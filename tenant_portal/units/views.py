"""Portal pages: the organisation's units (the tree, each unit, the eligible headcounts, the CSV import)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import RequestEntityTooLarge

from core.i18n import available_languages
from core.params import page_number
from tenant_portal.access import admin_required, is_admin, viewer_required
from tenant_portal.provisioning import services as provisioning
from tenant_portal.units import services
from tenant_portal.units.cli import import_command
from tenant_portal.confirmation import confirm_page
from tenant_portal.units.forms import KIND_NAMES, ApplyImportForm, HeadcountForm, ImportForm, PosterForm, UnitForm
from tenants.kits import posters

bp = Blueprint("portal_units", __name__, url_prefix="/portal/units", cli_group="units")
bp.cli.add_command(import_command)

# The file goes up inside a multipart body: leave room for its envelope.
UPLOAD_LIMIT = services.MAX_WEB_BYTES + 16 * 1024
# The checked file comes back form-encoded, where one non-ASCII byte takes three characters.
RESUBMIT_LIMIT = 3 * services.MAX_WEB_BYTES + 16 * 1024


def _index(headcount_form: HeadcountForm | None = None, status: int = 200):
    tree = services.unit_tree(g.tenant, page_number())
    if headcount_form is None:
        headcount_form = HeadcountForm(formdata=None, data={
            "eligible_men": g.tenant.eligible_men, "eligible_total": g.tenant.eligible_total})
    return render_template("tenant_portal/units/index.html", tree=tree, kinds=KIND_NAMES, can_change=is_admin(),
                           headcount_form=headcount_form, roster=provisioning.roster_size()), status


@bp.get("")
@viewer_required
def index():
    """The units as an indented table with their commitments, and the organisation's eligible headcount."""
    return _index()


@bp.post("/headcount")
@admin_required
def headcount():
    """Set the organisation-wide eligible headcount."""
    form = HeadcountForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    if services.set_headcount(g.tenant, form.eligible_men.data, form.eligible_total.data):
        flash(_("The organisation's eligible headcount is saved."))
    return redirect(url_for("portal_units.index"), code=303)


def _unit_page(form: UnitForm, unit=None, problem: str | None = None):
    status = 400 if form.errors or problem else 200
    return render_template("tenant_portal/units/edit.html", form=form, unit=unit, problem=problem), status


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def add():
    """Add a unit."""
    form = UnitForm(services.parent_choices(), data={"parent": request.args.get("parent", "")})
    if form.validate_on_submit():
        try:
            unit = services.add_unit(form.fields())
        except services.UnitChangeRefused as refusal:
            return _unit_page(form, problem=str(refusal))
        flash(_("%(name)s is added.", name=unit.name))
        return redirect(url_for("portal_units.index"), code=303)
    return _unit_page(form)


@bp.route("/<uuid:unit_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(unit_id: uuid.UUID):
    """Change a unit: name, kind, where it sits in the tree, key, place and eligible headcount."""
    unit = services.find_unit(unit_id) or abort(404)
    form = UnitForm(services.parent_choices(unit), data=UnitForm.values_of(unit))
    if form.validate_on_submit():
        try:
            changed = services.update_unit(unit, form.fields())
        except services.UnitChangeRefused as refusal:
            return _unit_page(form, unit, str(refusal))
        flash(_("%(name)s is saved.", name=unit.name) if changed else _("Nothing changed."))
        return redirect(url_for("portal_units.index"), code=303)
    return _unit_page(form, unit)


@bp.route("/<uuid:unit_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(unit_id: uuid.UUID):
    """Delete a unit after a confirmation, unless other units, commitments or targets depend on it (the page
    lists why)."""
    unit = services.find_unit(unit_id) or abort(404)
    return confirm_page("tenant_portal/units/delete.html", lambda: services.delete_unit(unit),
                        _("%(name)s is deleted.", name=unit.name), url_for("portal_units.index"),
                        refused=services.UnitChangeRefused, unit=unit, blockers=services.deletion_blockers(unit))


def _import_page(form: ImportForm | None = None, plan: services.ImportPlan | None = None,
                 apply_form: ApplyImportForm | None = None, problem: str | None = None, status: int = 200):
    return render_template("tenant_portal/units/import.html", form=form or ImportForm(formdata=None), plan=plan,
                           apply_form=apply_form, problem=problem, max_rows=services.MAX_WEB_ROWS,
                           columns=services.COLUMNS, kinds=KIND_NAMES), status


def _too_large():
    return _import_page(problem=_(
        "This file is larger than 1 MiB, more than this page takes. Ask your operator to run “flask units "
        "import” with it, or split it."), status=413)


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_check():
    """Check a CSV of units and list every problem by line, writing nothing (the dry run)."""
    request.max_content_length = UPLOAD_LIMIT
    try:
        form = ImportForm()
    except RequestEntityTooLarge:
        return _too_large()
    if not form.validate_on_submit():
        return _import_page(form, status=400 if request.method == "POST" else 200)
    data = form.file.data.read(services.MAX_WEB_BYTES + 1)
    if len(data) > services.MAX_WEB_BYTES:
        return _too_large()
    plan = services.check_import(data, services.MAX_WEB_ROWS)
    if not plan.ok:
        return _import_page(form, plan, status=400)
    apply_form = ApplyImportForm(formdata=None, data={
        "content": data.decode("utf-8-sig"), "filename": (form.file.data.filename or "")[:200]})
    return _import_page(plan=plan, apply_form=apply_form)


@bp.post("/import/apply")
@admin_required
def import_apply():
    """Import the checked file: every unit inserted or updated by its key, all or nothing."""
    request.max_content_length = RESUBMIT_LIMIT
    request.max_form_memory_size = RESUBMIT_LIMIT
    try:
        form = ApplyImportForm()
    except RequestEntityTooLarge:
        return _too_large()
    if not form.validate_on_submit() or len(form.content.data.encode()) > services.MAX_WEB_BYTES:
        abort(400)
    plan = services.check_import(form.content.data, services.MAX_WEB_ROWS)
    if not plan.ok:  # the units changed since the check: show what is wrong now
        return _import_page(plan=plan, status=400)
    services.apply_import(plan, form.filename.data or None)
    flash(_("The file is imported: %(added)s, %(updated)s.",
            added=ngettext("%(num)s unit added", "%(num)s units added", plan.new),
            updated=ngettext("%(num)s unit updated", "%(num)s units updated", plan.updated)))
    return redirect(url_for("portal_units.index"), code=303)


# --- Posters ------------------------------------------------------------------------------------------------------

def _poster_response(document: bytes, etag: str, filename: str):
    response = current_app.response_class(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.set_etag(etag)
    return response


@bp.get("/<uuid:unit_id>/poster.pdf")
@viewer_required
def unit_poster(unit_id: uuid.UUID):
    """A unit's poster in the page's language: its code opens the sign-up page with the unit chosen."""
    unit = services.find_unit(unit_id) or abort(404)
    document, etag = posters.poster_pdf(g.tenant, posters.Poster(str(get_locale()), unit=unit))
    return _poster_response(document, etag, "heforshe-poster.pdf")


@bp.get("/<uuid:unit_id>/qr.svg")
@viewer_required
def unit_qr(unit_id: uuid.UUID):
    """The code alone, to put on a slide or a flyer of one's own."""
    unit = services.find_unit(unit_id) or abort(404)
    response = current_app.response_class(posters.qr_svg(posters.signup_address(unit, str(get_locale()))),
                                          mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = 'attachment; filename="heforshe-code.svg"'
    return response


@bp.route("/poster", methods=["GET", "POST"])
@admin_required
def event_poster():
    """A poster for an event: its name, when and where, the unit people commit in, and the poster's language."""
    form = PosterForm(services.parent_choices(), available_languages(),
                      data={"language": str(get_locale())} if request.method == "GET" else None)
    if form.validate_on_submit():
        unit = services.find_unit(form.unit_id) if form.unit_id else None
        document, etag = posters.poster_pdf(g.tenant, posters.Poster(
            form.language.data, form.event.data or None, form.details.data or None, unit))
        return _poster_response(document, etag, "heforshe-poster.pdf")
    return render_template("tenant_portal/units/poster.html", form=form,
                           code=posters.qr_code(posters.signup_address(None, str(get_locale()))).svg_data_uri(
                               scale=4, border=4)), 400 if form.is_submitted() else 200
