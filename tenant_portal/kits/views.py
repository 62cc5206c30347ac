"""Portal pages: the action kits the organisation's pages show (a choice among the operator's kits, and its own
kits, written here with a preview)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from tenant_portal.access import admin_required, is_admin, viewer_required
from tenant_portal.confirmation import confirm_page
from tenant_portal.kits import services
from tenant_portal.kits.forms import ChoiceForm, OwnKitForm
from tenants.kits import services as kits
from tenants.kits.vocabulary import AUDIENCES, PILLARS

bp = Blueprint("portal_kits", __name__, url_prefix="/portal/kits")


def _index(form: ChoiceForm | None = None, status: int = 200):
    language, chosen = str(get_locale()), kits.choices()
    offered = [(kit, kits.page_of(kit, language)) for kit in kits.published_kits()]
    if form is None:
        form = ChoiceForm(formdata=None, data={"shown": [kit.id for kit, _page in offered
                                                         if kits.is_shown(kit, g.tenant, chosen)]})
    return render_template("tenant_portal/kits/index.html", form=form, offered=offered, own=kits.own_kits(),
                           audiences=AUDIENCES, pillars=PILLARS, can_change=is_admin()), status


@bp.get("")
@viewer_required
def index():
    """The operator's kits, each with whether the pages list it, and the organisation's own kits."""
    return _index()


@bp.post("/choice")
@admin_required
def choose():
    form = ChoiceForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    changed = services.choose(g.tenant, set(form.shown.data or ()))
    flash(_("Your choice of kits is saved. Your pages list them now.") if changed else _("Nothing changed."))
    return redirect(url_for("portal_kits.index"), code=303)


def _form_page(form: OwnKitForm, kit=None, problem: str | None = None):
    """The own kit's form; under it, once "Preview" is pressed with a valid form, the kit as its page shows it."""
    preview = None
    if form.preview.data and not form.errors and problem is None:
        fields = form.fields()
        preview = kits.KitPage(kit.slug if kit else "", fields.audience, fields.pillar, fields.language,
                               fields.text.title, fields.text.summary, fields.text.body, own=True,
                               contacts=fields.contacts)
    status = 400 if form.errors or problem else 200
    return render_template("tenant_portal/kits/form.html", form=form, kit=kit, problem=problem, preview=preview,
                           audiences=AUDIENCES, pillars=PILLARS), status


def _save(form: OwnKitForm, save, kit=None):
    """Preview the form's kit, or save it with ``save(fields)`` and go back to the list."""
    if form.preview.data:
        return _form_page(form, kit)
    try:
        saved = save(form.fields())
    except kits.KitRefused as refusal:
        return _form_page(form, kit, str(refusal))
    flash(_("The kit “%(title)s” is saved.", title=form.title.data) if saved else _("Nothing changed."))
    return redirect(url_for("portal_kits.index"), code=303)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def add():
    """Write one of the organisation's own kits."""
    form = OwnKitForm(data={"language": str(get_locale())} if request.method == "GET" else None)
    if form.validate_on_submit():
        return _save(form, services.add)
    return _form_page(form)


def _own(kit_id: uuid.UUID):
    return kits.find_own(kit_id) or abort(404)


@bp.route("/<uuid:own_kit_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(own_kit_id: uuid.UUID):
    kit = _own(own_kit_id)
    form = OwnKitForm(data=OwnKitForm.values_of(kit))
    if form.validate_on_submit():
        return _save(form, lambda fields: services.update(kit, fields), kit)
    return _form_page(form, kit)


@bp.route("/<uuid:own_kit_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(own_kit_id: uuid.UUID):
    """Delete one of the organisation's own kits after a confirmation; links to it stop working."""
    kit = _own(own_kit_id)
    return confirm_page("tenant_portal/kits/delete.html", lambda: services.delete(kit),
                        _("The kit “%(title)s” is deleted.", title=kit.title), url_for("portal_kits.index"), kit=kit)
