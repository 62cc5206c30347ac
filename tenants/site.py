"""What a tenant's host serves on core's shared routes, and where the roll-up finds the commitments it counts.

Both are handed to core (which may not import this package) by ``init_app``: ``core.site.TenantSite`` and
``core.rollup.recount.Commitments``.
"""

from __future__ import annotations

from flask import g, url_for
from sqlalchemy import select

from core import site
from core.extensions import db
from core.rollup import recount
from tenants import views
from tenants.models import Commitment, MapVisibility, Tenant, TenantKind, TenantStatus, Unit
from tenants.services import hosts, public, registry
from tenants.sso.forms import DiscoveryForm


def map_is_public(tenant: Tenant) -> bool:
    """Whether anyone may see the tenant's internal map (until members sign in, only public maps show)."""
    return tenant.map_visibility is MapVisibility.PUBLIC


def _listed() -> list[Tenant]:
    return db.session.scalars(select(Tenant).where(
        Tenant.listed.is_(True), Tenant.status == TenantStatus.ACTIVE, Tenant.kind != TenantKind.MOVEMENT)).all()


def _individual_signup() -> str | None:
    return url_for("tenants.movement_signup") if hosts.open_movement() is not None else None


def _map_page() -> dict:
    return {"units": public.signup_units(), "target": public.public_target(g.tenant.privacy_k)}


def _every_tenant() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(select(Tenant.id, Tenant.slug).order_by(Tenant.slug))]


def _counted_commitments():
    return db.session.execute(
        select(Commitment.id, Commitment.gender, Commitment.country_code, Commitment.unit_id,
               Commitment.department_id, Commitment.place_id,
               Commitment.created_at, Commitment.source, Commitment.verified, Commitment.person_key,
               Commitment.pillar, Commitment.acted_at.is_not(None))
        .where(Commitment.counted)
        .execution_options(yield_per=10_000)
    )


def init_app(app) -> None:
    """Hand core the tenant hosts' pages and the roll-up the commitments."""
    site.serve_tenants(app, site.TenantSite(
        home=views.signup_page,
        get=lambda tenant_id: db.session.get(Tenant, tenant_id),
        map_is_public=map_is_public,
        units=lambda: db.session.scalars(select(Unit)),
        unit=public.unit_in_tenant,
        map_page=_map_page,
        brand_colors=registry.brand_colors,
        listed=_listed,
        discovery_form=DiscoveryForm,
        individual_signup=_individual_signup,
    ))
    recount.count_commitments_from(app, recount.Commitments(
        table=Commitment.__table__, tenants=_every_tenant, counted=_counted_commitments))
