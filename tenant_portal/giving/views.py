"""``/portal/giving``: the gifts made through the tenant's pages (past k givers) and its match pledge."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from core.forms import Form
from tenant_portal.access import admin_required, is_admin, viewer_required
from tenant_portal.giving import services
from tenant_portal.giving.forms import PledgeForm
from tenants.giving import services as giving
from tenants.giving.models import MatchKind

bp = Blueprint("portal_giving", __name__, url_prefix="/portal/giving")


def _page(form: PledgeForm | None = None, status: int = 200):
    found = giving.pledge()
    if form is None:
        form = PledgeForm(formdata=None)
        if found is not None:
            form.kind.data, form.currency.data = found.kind.value, found.currency
            form.amount.data = None if found.amount is None else found.amount / 100
            form.cap.data = found.cap / 100
    return render_template("tenant_portal/giving/index.html", form=form, pledge=found,
                           raised=giving.raised(g.tenant), can_change=is_admin()), status


@bp.get("")
@viewer_required
def index():
    return _page()


@bp.post("")
@admin_required
def save():
    form = PledgeForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    services.pledge(MatchKind(form.kind.data), form.amount.data, form.cap.data, form.currency.data)
    flash(_("Your match pledge is saved: it shows beside your count."))
    return redirect(url_for("portal_giving.index"), code=303)


@bp.post("/withdraw")
@admin_required
def withdraw():
    if not Form().validate_on_submit():  # the CSRF token
        abort(400)
    if services.withdraw():
        flash(_("Your match pledge is withdrawn."))
    return redirect(url_for("portal_giving.index"), code=303)
