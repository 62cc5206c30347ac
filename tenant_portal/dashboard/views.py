"""Portal pages: the dashboard and the exports."""

from flask import Blueprint, Response, g, render_template, request

from core.params import page_number
from tenant_portal.access import admin_required, gate, is_admin, viewer_required
from tenant_portal.dashboard import charts, services
from tenants.actions.vocabulary import PILLARS

bp = Blueprint("portal_dashboard", __name__, url_prefix="/portal")
gate(bp, "personal_data_exports", lambda: request.endpoint == "portal_dashboard.commitments_csv")


@bp.get("/dashboard")
@viewer_required
def show():
    """The tenant's numbers at a glance."""
    numbers = services.dashboard(g.tenant, page_number("units_page"))
    return render_template("tenant_portal/dashboard/show.html", numbers=numbers, chart=charts.by_day(numbers.days),
                           source_label=services.source_label, pillar_names=PILLARS)


@bp.get("/exports")
@viewer_required
def exports():
    """What each file holds and who may download it."""
    return render_template("tenant_portal/dashboard/exports.html", can_export_people=is_admin())


@bp.get("/exports/commitments.csv")
@admin_required
def commitments_csv():
    """Every commitment with the person's details, sent line by line (admins only: personal data)."""
    return _send(services.export_commitments(g.tenant))


@bp.get("/exports/aggregates.csv")
@viewer_required
def aggregates_csv():
    """Counts by day, unit, country and source, with the privacy threshold applied."""
    return _send(services.export_aggregates(g.tenant))


def _send(export: services.Export) -> Response:
    return Response(export.lines, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"', "Cache-Control": "no-store"})
