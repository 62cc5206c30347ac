"""Portal page: the tenant's API keys (viewers see them, admins make and revoke them)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from core.forms import Form
from tenant_portal.access import admin_required, gate, is_admin, viewer_required
from tenant_portal.api import services
from tenant_portal.api.forms import SCOPE_NAMES, KeyForm

bp = Blueprint("portal_api", __name__, url_prefix="/portal/api")
gate(bp, "api")


def _page(form: KeyForm, token: str | None = None, status: int = 200):
    return render_template("tenant_portal/api/index.html", form=form, keys=services.keys(), token=token,
                           scope_names=SCOPE_NAMES, can_change=is_admin()), status


@bp.get("")
@viewer_required
def index():
    """The keys in force: name, scopes, who made it, when, when last used."""
    return _page(KeyForm())


@bp.post("")
@admin_required
def create():
    """Make a key; its token is shown on this answer only (it is never kept)."""
    form = KeyForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    _, token = services.create_key(form.name.data, form.scopes.data)
    return _page(KeyForm(formdata=None), token=token)


@bp.post("/<uuid:key_id>/revoke")
@admin_required
def revoke(key_id: uuid.UUID):
    """Revoke a key: the next request that carries it is refused."""
    key = services.find_key(key_id) or abort(404)
    if not Form().validate_on_submit():  # the CSRF token
        abort(400)
    services.revoke_key(key)
    flash(_("The key “%(name)s” is revoked.", name=key.name))
    return redirect(url_for("portal_api.index"), code=303)
