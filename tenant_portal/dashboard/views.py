"""Portal pages: the dashboard and the exports."""

from flask import Blueprint, render_template

from tenant_portal.access import viewer_required
from tenants import rollup

bp = Blueprint("portal_dashboard", __name__, url_prefix="/portal")


@bp.get("/dashboard")
@viewer_required
def show():
    """The tenant's numbers at a glance."""
    return render_template("tenant_portal/dashboard/show.html", counts=rollup.tenant_counts())
