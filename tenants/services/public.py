"""Public reads: what a tenant's sign-up and thank-you pages show besides the form (units to pick, the tenant's
own wording, the published target)."""

from __future__ import annotations

import uuid
from datetime import date

from flask import g, has_request_context
from sqlalchemy import or_, select

from core import page_cache
from core.extensions import db
from core.rollup import steps
from tenants.services import hosts
from tenants.models import (Target, TargetMetric, Tenant, TenantKind, TenantStatus, TenantText, Unit,
                            utcnow)


def signup_units() -> list[Unit]:
    """The current tenant's units a person can pick at sign-up, by name."""
    return list(db.session.scalars(select(Unit).order_by(Unit.name)))


def unit_in_tenant(unit_id: uuid.UUID) -> Unit | None:
    """One of the current tenant's units, or None (another tenant's unit is not found)."""
    return db.session.scalars(select(Unit).where(Unit.id == unit_id)).one_or_none()


def tenant_texts(language: str) -> TenantText | None:
    """The current tenant's own wording in ``language``, if it has written any."""
    return db.session.scalars(select(TenantText).where(TenantText.language == language)).one_or_none()


def public_target(k: int, today: date | None = None) -> dict | None:
    """The current tenant's published target with its progress: of the overall targets counting men or
    commitments that have started, the one with the nearest deadline not yet passed. Its men are the released
    count (threshold ``k``), which moves in steps."""
    today = today or utcnow().date()
    tenant = g.get("tenant")
    if tenant is None or not has_request_context():
        target = _published_target(today)
    else:  # a target is a setting: read once per settings version (a change moves it: targets' services)
        target = page_cache.settled(("public target", tenant.id, hosts.settings_fingerprint(tenant), today),
                                    lambda: _published_target(today))
    if target is None:
        return None
    counts = steps.tenant_counts((), k)
    current = counts.men if target["metric"] == TargetMetric.MEN.value else counts.total
    # Rounded down, so that 100% is shown only once the target is reached.
    return {**target, "current": current, "percent": min(100, 100 * current // target["value"])}


def _published_target(today: date) -> dict | None:
    target = db.session.scalars(
        select(Target).where(Target.public.is_(True), Target.unit_id.is_(None), Target.deadline >= today,
                             Target.metric.in_([TargetMetric.MEN, TargetMetric.ALL]),
                             or_(Target.starts_on.is_(None), Target.starts_on <= today))
        .order_by(Target.deadline, Target.id)).first()
    return None if target is None else {"metric": target.metric.value, "value": target.value,
                                        "deadline": target.deadline}


def listed_partner(slug: str) -> Tenant | None:
    """An active partner organisation listed on the global page (None for any other: unlisted, suspended, the
    movement, unknown), whose logo the global page's partners wall may show."""
    return db.session.scalars(select(Tenant).where(
        Tenant.slug == slug, Tenant.listed.is_(True), Tenant.status == TenantStatus.ACTIVE,
        Tenant.kind != TenantKind.MOVEMENT)).one_or_none()
