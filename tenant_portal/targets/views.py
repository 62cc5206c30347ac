"""Portal pages: targets and the target tracker (viewers look, admins change)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.params import page_number
from tenant_portal.access import admin_required, is_admin, viewer_required
from tenant_portal.targets import charts, services
from tenant_portal.confirmation import confirm_page
from tenant_portal.targets.forms import METRIC_NAMES, TargetForm
from tenants.services import public

bp = Blueprint("portal_targets", __name__, url_prefix="/portal/targets")


@bp.app_template_global("public_target")
def public_target() -> dict | None:
    """The published target of the current tenant, for the sign-up and thank-you pages."""
    return public.public_target(g.tenant.privacy_k) if g.get("tenant") is not None else None


@bp.get("")
@viewer_required
def index():
    """Every target with its tracker: progress, pace needed, forecast and chart."""
    page = page_number()
    today = services.today_utc()
    targets, has_more = services.target_page(page, today)
    trackers = services.trackers(g.tenant, targets, today)
    return render_template("tenant_portal/targets/index.html", trackers=trackers, page=page, has_more=has_more,
                           charts={t.target.id: charts.tracker_chart(t, today) for t in trackers}, today=today,
                           metric_names=METRIC_NAMES, can_change=is_admin())


def _form_page(form: TargetForm, target=None):
    return render_template("tenant_portal/targets/form.html", form=form, target=target), 400 if form.errors else 200


def _refused(form: TargetForm, refusal: services.InvalidTarget, target=None):
    form[refusal.field].errors.append(str(refusal))
    return _form_page(form, target)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Set a new target."""
    form = TargetForm(public.signup_units())
    if form.validate_on_submit():
        try:
            services.create_target(g.tenant, form.target_data())
        except services.InvalidTarget as refusal:
            return _refused(form, refusal)
        flash(_("The target is set."))
        return redirect(url_for("portal_targets.index"), code=303)
    return _form_page(form)


@bp.route("/<uuid:target_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(target_id: uuid.UUID):
    """Change a target."""
    target = services.find_target(target_id) or abort(404)
    units = public.signup_units()
    form = TargetForm(units) if request.method == "POST" else TargetForm.of(target, units)
    if form.validate_on_submit():
        try:
            services.update_target(g.tenant, target, form.target_data())
        except services.InvalidTarget as refusal:
            return _refused(form, refusal, target)
        flash(_("The target is saved."))
        return redirect(url_for("portal_targets.index"), code=303)
    return _form_page(form, target)


@bp.route("/<uuid:target_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(target_id: uuid.UUID):
    """Delete a target, after a confirmation."""
    target = services.find_target(target_id) or abort(404)
    unit = public.unit_in_tenant(target.unit_id) if target.unit_id else None
    return confirm_page("tenant_portal/targets/delete.html", lambda: services.delete_target(target),
                        _("The target is deleted."), url_for("portal_targets.index"),
                        target=target, unit=unit, metric_names=METRIC_NAMES)
