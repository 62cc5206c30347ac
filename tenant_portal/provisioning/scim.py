"""``/scim/v2`` on a partner's host: the SCIM 2.0 endpoints an identity provider (Entra ID, Okta) pushes the roster
to, with the tenant's SCIM token in ``Authorization: Bearer`` (``protocol`` answers them).

``protocol`` is imported by the first SCIM request, not with the app: scim2-models takes about a second to import
(pydantic reads its models' docstrings from their source), which every worker, command and test would pay at start.
"""

from __future__ import annotations

from flask import Blueprint, abort, g

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("", methods=METHODS, defaults={"path": ""})
@bp.route("/<path:path>", methods=METHODS)
def endpoint(path: str):
    """Every SCIM request of a partner's host."""
    if g.get("tenant") is None or g.tenant.is_movement:
        abort(404)
    from tenant_portal.provisioning import protocol  # noqa: PLC0415 - see above

    return protocol.respond(bp.url_prefix, path)
