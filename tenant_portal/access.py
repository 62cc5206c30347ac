"""Who may open a portal page: this tenant's admins, or its admins and viewers, signed in by a way that opens the
portal (single sign-on, break-glass or an invitation; an emailed link to one's own page does not)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_login import current_user

from core import auth
from tenants import plans
from tenants.models import Role


def _require(roles: frozenset[Role]):
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if g.get("tenant") is None:
                abort(404)
            if not portal_session():
                return redirect(url_for("tenant_portal.sign_in", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


#: Pages that change something: this tenant's admins only (anonymous people are sent to sign in).
admin_required = _require(frozenset({Role.ADMIN}))
#: Pages that only show: this tenant's admins and viewers.
viewer_required = _require(frozenset({Role.ADMIN, Role.VIEWER}))


def portal_session() -> bool:
    """Whether the session was signed in by a way that opens the portal."""
    return auth.signed_in_via() in auth.PORTAL_SIGN_INS


def is_admin() -> bool:
    """Whether the signed-in person is an admin (for showing or hiding the controls that change things)."""
    return portal_session() and current_user.role is Role.ADMIN


def gate(blueprint: Blueprint, feature: str, applies: Callable[[], bool] = lambda: True) -> None:
    """Open ``blueprint``'s pages (those where ``applies()``) only while the tenant's plan has ``feature``; else its
    signed-in people see what is off and why (403), with every setting kept. Anyone else meets the pages' own
    checks first."""

    @blueprint.before_request
    def _entitled():
        if g.get("tenant") is None or not portal_session() or not applies():
            return None
        if plans.entitled(g.tenant, feature):
            return None
        return render_template("tenant_portal/not_in_plan.html", feature=feature,
                               notice=plans.notice(g.tenant)), 403
