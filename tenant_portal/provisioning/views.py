"""Portal page: SCIM provisioning (the address and token an identity provider needs, and the roster's size)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.forms import Form
from tenant_portal.access import admin_required, gate, is_admin, viewer_required
from tenant_portal.provisioning import services

bp = Blueprint("portal_provisioning", __name__, url_prefix="/portal/provisioning")
gate(bp, "course_registration")


def _page(secret: str | None = None):
    total, counted = services.roster_size()
    return render_template("tenant_portal/provisioning/index.html", form=Form(), tokens=services.tokens(),
                           secret=secret, base_url=request.url_root.rstrip("/") + "/scim/v2", roster_total=total,
                           roster_counted=counted, can_change=is_admin())


@bp.get("")
@viewer_required
def index():
    """The SCIM address, the tokens in force and how many people the roster holds."""
    return _page()


@bp.post("")
@admin_required
def create():
    """Make a token; it is shown on this answer only (only its hash is kept)."""
    if not Form().validate_on_submit():  # the CSRF token
        abort(400)
    _, secret = services.create_token()
    return _page(secret)


@bp.post("/<uuid:token_id>/revoke")
@admin_required
def revoke(token_id: uuid.UUID):
    """Revoke a token: the identity provider's next request with it is refused."""
    token = services.find_token(token_id) or abort(404)
    if not Form().validate_on_submit():
        abort(400)
    services.revoke_token(token)
    flash(_("The SCIM token is revoked."))
    return redirect(url_for("portal_provisioning.index"), code=303)
