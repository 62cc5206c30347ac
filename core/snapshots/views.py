"""The snapshots on the global site: the list (``/snapshots/``), each day's file, the index, the signing keys.
On a tenant's host none of them exists (404)."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, abort, current_app, g, render_template, url_for

from core import params
from core.snapshots import keys, services

bp = Blueprint("snapshots", __name__, url_prefix="/snapshots", template_folder="templates")

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
A_YEAR = 365 * 24 * 3600


@bp.before_request
def global_site_only():
    """The movement's history is the global site's alone."""
    if g.tenant is not None:
        abort(404)


def _published(data: bytes, mimetype: str, max_age: int, immutable: bool = False):
    """Published bytes as they are, cacheable by anyone and readable from any origin."""
    response = current_app.response_class(data, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.cache_control.immutable = immutable
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/")
def index():
    """The snapshots, newest first, with the signing key and how to check them."""
    current, trusted = keys.fingerprints()
    return render_template("snapshots/index.html", listing=services.snapshot_page(params.page_number()),
                           key_id=current, trusted=trusted, site=url_for("core.home", _external=True))


@bp.get("/<day>.json")
def day_json(day):
    """A day's snapshot as published: the canonical body, its SHA-256 and signature. It never changes."""
    if not DAY.fullmatch(day):
        abort(404)
    try:
        snapshot = services.find(date.fromisoformat(day))
    except ValueError:  # 2026-02-30
        abort(404)
    if snapshot is None:
        abort(404)
    response = _published(services.published_snapshot(snapshot), "application/json", A_YEAR, immutable=True)
    response.set_etag(snapshot.sha256)
    return response


@bp.get("/index.json")
def index_json():
    """Every snapshot's day and SHA-256, oldest first."""
    return _published(services.published_index(), "application/json", 300)


@bp.get("/keys.json")
def keys_json():
    """Every public key that signed a snapshot, and the current one's id."""
    return _published(services.published_keys(), "application/json", 300)


@bp.get("/key")
def key():
    """The public key that signs snapshots now (PEM)."""
    return _published(keys.public_pem(keys.signing_key().public_key()).encode("ascii"), "text/plain", 300)
