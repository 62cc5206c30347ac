"""What a tenant's host serves on core's shared routes: the seam between core and the tenants above it.

Core's routes (``/``, ``/stats.json``, ``/count.json``, ``/map``, ``/map.json``, ``/live``, the embeds,
``/brand.css``) serve the global site on the base domain and a tenant's site on the tenant's host. Core may not
import the tenants package (layers point down), so that package hands core, in its ``init_app``, one
``TenantSite``: the tenant's own pages and the few facts of a tenant that core's reads need. Core reads it
through ``tenant_site()``; a tenant is otherwise opaque to core, which uses only its ``id`` and ``privacy_k``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

Tenant = Any  # the tenants package's model: core reads ``id`` and ``privacy_k`` only
Unit = Any  # a tenant's unit: core reads ``id``, ``parent_id``, ``name``, ``kind``, ``latitude``, ``longitude``


@dataclass(frozen=True)
class TenantSite:
    """A tenant host's part of the shared routes, and what the global page shows of the tenants."""

    home: Callable[[], ResponseReturnValue]  # ``/`` on a tenant's host (GET and POST): its sign-up page
    get: Callable[[int], Tenant | None]  # a tenant by id (the caches and the live hub know ids only)
    map_is_public: Callable[[Tenant], bool]  # whether anyone may see the tenant's map
    units: Callable[[], Iterable[Unit]]  # the current tenant's units
    unit: Callable[[uuid.UUID], Unit | None]  # the current tenant's unit of that id (another tenant's: None)
    map_page: Callable[[], dict]  # what the map page shows besides the map: ``units`` to filter by, ``target``
    brand_colors: Callable[[Tenant | None], tuple[str, str]]  # primary and accent colours (None: the global site)
    # the partners on the global page: ``id``, ``slug``, ``name``, ``kind``, ``logo_version``
    listed: Callable[[], Iterable[Tenant]]
    discovery_form: Callable[[], Any]  # "sign in with your organisation", on the global page
    individual_signup: Callable[[], str | None]  # the global page's way in for anyone (None: not open)


_EXTENSION = "core.site"  # this module's own state in ``app.extensions``


def serve_tenants(app, site: TenantSite) -> None:
    """Let ``app``'s shared routes serve tenants' hosts with ``site``."""
    app.extensions[_EXTENSION] = site


def tenant_site() -> TenantSite:
    """What the current app serves on a tenant's host."""
    return current_app.extensions[_EXTENSION]
