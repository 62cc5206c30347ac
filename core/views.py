"""Pages every host serves: the home page (global, or a tenant's sign-up), the map, live counts, the
embeddable counter, counts as JSON, branding CSS. What a tenant's host serves here comes from the tenants
package through ``core.site``."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core import attack_mode, consent_age, live, maps, page_cache, params, places, site, stats
from core.colors import readable_on_dark
from core.privacy import DEFAULT_K, MIN_K

bp = Blueprint("core", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/core")


@bp.route("/", methods=["GET", "POST"])
def home():
    """The global HeForShe page on the base domain; a tenant's sign-up page on its own host. The global page is
    the same for everyone in a language but for its form's CSRF token: kept rendered for as long as its counts
    (core/page_cache.py), answered with an ETag."""
    if g.tenant is not None:
        return site.tenant_site().home()
    if request.method == "POST":
        abort(405)
    form = site.tenant_site().discovery_form()
    if current_user.is_authenticated:
        return global_page(form)
    kept = page_cache.page(("global", request.host, str(get_locale())), lambda: global_page(form),
                           {"csrf": generate_csrf()}, seconds=page_cache.COUNTS_SECONDS)
    return page_cache.answer(kept, *page_cache.session_token())


def global_page(discovery_form, **context) -> str:
    """The global page: everyone's counts, a way in for anyone who commits on their own (while the movement is
    open), the search for one's organisation, the leading countries and the listed partners."""
    return render_template("core/global.html", overview=stats.global_overview(), discovery_form=discovery_form,
                           individual_signup=site.tenant_site().individual_signup(), **context)


@bp.get("/altcha/challenge")
def altcha_challenge():
    """A new proof-of-work challenge for the sign-up form's check in attack mode (each one different: never kept)."""
    response = current_app.json.response(attack_mode.challenge())
    response.cache_control.no_store = True
    return response


@bp.get("/stats.json")
def stats_json():
    """Counts (never people) for this host: the tenant's, or the whole movement's, with the version of their
    shape and where each figure is defined. Cached for at most a second."""
    body = {"schema_version": stats.SCHEMA_VERSION, "definitions": url_for("core.counting", _external=True),
            **stats.site_stats(g.tenant.id if g.tenant is not None else None)}
    response = current_app.json.response(body)
    response.cache_control.public = True
    response.cache_control.max_age = int(stats.cache_seconds(current_app))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/counting")
def counting():
    """What each count means, what is not counted, and how soon a commitment shows."""
    return render_template("core/counting.html", k=g.tenant.privacy_k if g.tenant is not None else DEFAULT_K,
                           default_k=DEFAULT_K, minimum_k=MIN_K, default_age=consent_age.DEFAULT_AGE)


@bp.get("/brand.css")
def brand_css():
    """The tenant's colours as CSS custom properties (kept out of the page so the CSP can stay strict), each also as
    the dark theme shows it as text."""
    primary, accent = site.tenant_site().brand_colors(g.tenant)
    on_dark = readable_on_dark(primary), readable_on_dark(accent)
    response = current_app.response_class(
        f":root {{ --brand-primary: {primary}; --brand-accent: {accent}; "
        f"--brand-primary-on-dark: {on_dark[0]}; --brand-accent-on-dark: {on_dark[1]}; }}\n", mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response


@bp.get("/privacy")
def privacy():
    """The privacy notice people consent to, with its version."""
    return render_template("core/privacy.html", notice_version=current_app.config["PRIVACY_NOTICE_VERSION"])


def _require_public_map() -> None:
    if g.tenant is not None and not site.tenant_site().map_is_public(g.tenant):
        abort(403)


def _unit_filter() -> uuid.UUID | None:
    """The ``?unit=`` filter of a tenant map; a unit of another tenant is simply not found."""
    raw = request.args.get("unit")
    if not raw or g.tenant is None:
        return None
    try:
        unit = site.tenant_site().unit(uuid.UUID(raw))
    except ValueError:
        abort(404)
    if unit is None:
        abort(404)
    return unit.id


def _site_map(unit_id: uuid.UUID | None) -> dict:
    """This site's map data, computed at most once a second per site, unit and language."""
    tenant_id = g.tenant.id if g.tenant is not None else None
    return stats.site_map(tenant_id, unit_id, str(get_locale()))


def _json(body: dict, max_age: int = 1) -> Response:
    response = current_app.json.response(body)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


@bp.get("/map")
def map_page():
    """The live map: the world's on the global site, the organisation's own on a tenant's host. The same for
    every visitor: kept rendered for as long as its counts (core/page_cache.py), and may be kept by browsers and
    proxies, which ask each time with its ETag."""
    _require_public_map()
    unit_id = _unit_filter()

    def render() -> str:
        extras = site.tenant_site().map_page() if g.tenant is not None else {"units": [], "target": None}
        return render_template("core/map.html", data=_site_map(unit_id), unit_filter=unit_id, **extras)

    if current_user.is_authenticated:
        return render()
    key = ("map", g.tenant.id if g.tenant is not None else None, request.host, str(get_locale()), unit_id)
    return page_cache.answer(page_cache.page(key, render, {}, seconds=page_cache.COUNTS_SECONDS), shared=True)


@bp.get("/map.json")
def map_json():
    """The map's data: counts by country, city and unit, none under the privacy threshold."""
    _require_public_map()
    return _json(_site_map(_unit_filter()))


@bp.get("/count.json")
def count_json():
    """Just the headline numbers, for intranet pages and portals that draw their own counter."""
    response = _json(stats.site_headline(g.tenant.id if g.tenant is not None else None))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/live")
def live_stream():
    """Server-sent events: the current totals now, and again each time they change (at most once a second).
    While the broker is down it answers 503, and pages poll ``count.json`` instead."""
    hub = live.hub()
    if not hub.available():
        abort(503)
    snapshot = maps.live_snapshot(g.tenant)
    channel = live.channel_for(g.tenant.id if g.tenant is not None else None)
    stream = live.event_stream(hub, channel, snapshot,
                               request.headers.get("Last-Event-ID"))
    return Response(stream, mimetype="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@bp.get("/embed/counter")
def embed_counter():
    """The live counter to show inside another site's page (an intranet, a university portal)."""
    response = current_app.make_response(render_template("core/embed_counter.html", data=maps.live_snapshot(g.tenant)))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors *; base-uri 'none'; object-src 'none'")
    return response


@bp.get("/embed")
def embed_instructions():
    """How to put the live counter on another page: the snippets to copy."""
    return render_template("core/embed.html")


@bp.get("/embed.js")
def embed_script():
    """A small script that puts the counter where it is included (for pages that cannot write iframes)."""
    response = current_app.make_response(render_template("core/embed.js"))
    response.mimetype = "text/javascript"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/places.json")
def places_json():
    """City suggestions for the sign-up form: ``?country=FR&q=par``; without ``q``, every city of the
    country with coordinates, for the browser to find the nearest one itself."""
    country = request.args.get("country", "")[:2].upper()
    language = str(get_locale())
    query = params.search_text("q", max_length=100)  # no city name is that long
    found = places.search(country, query, language) if query else places.cities_in(country, language)
    return _json({"places": [{"id": p.id, "name": p.name, "latitude": p.latitude, "longitude": p.longitude}
                             for p in found]}, max_age=3600)
