"""Pages every host serves: the home page (global, or a tenant's sign-up), counts as JSON, branding CSS."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request

from core import stats
from tenants.services import brand_colors
from tenants import views as tenant_views

bp = Blueprint("core", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/core")


@bp.route("/", methods=["GET", "POST"])
def home():
    """The global HeForShe page on the base domain; a tenant's sign-up page on its own host."""
    if g.tenant is not None:
        return tenant_views.signup_page()
    if request.method == "POST":
        abort(405)
    return render_template("core/global.html", overview=stats.global_overview())


@bp.get("/stats.json")
def stats_json():
    """Counts (never people) for this host: the tenant's, or the whole movement's. Cached briefly."""
    body = stats.site_stats(g.tenant.id if g.tenant is not None else None)
    response = current_app.json.response(body)
    response.cache_control.public = True
    response.cache_control.max_age = int(current_app.config["STATS_CACHE_SECONDS"])
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/brand.css")
def brand_css():
    """The tenant's colours as CSS custom properties (kept out of the page so the CSP can stay strict)."""
    primary, accent = brand_colors(g.tenant)
    response = current_app.response_class(
        f":root {{ --brand-primary: {primary}; --brand-accent: {accent}; }}\n", mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response


@bp.get("/privacy")
def privacy():
    """The privacy notice people consent to, with its version."""
    return render_template("core/privacy.html", version=current_app.config["PRIVACY_NOTICE_VERSION"])
