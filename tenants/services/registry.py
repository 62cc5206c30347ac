"""The tenant registry: what a tenant may be called and coloured, creating and configuring one, and the
operator's overview of them all."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from core import attack_mode, privacy
from core.extensions import db
from core.rollup import services as rollup
from core.tenancy import tenant_context
from tenants.models import EmailConfirmation, MapVisibility, Role, Tenant, TenantHostname, TenantKind
from tenants.services.members import find_or_create_member

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({
    "www", "admin", "api", "static", "app", "assets", "auth", "billing", "cdn", "core", "dashboard", "docs",
    "global", "help", "login", "mail", "operator", "portal", "root", "signup", "sso", "status", "support",
    "heforshe", "unwomen", "localhost",
})
COLOR_PATTERN = re.compile(r"^#[0-9a-f]{6}$")
DEFAULT_COLORS = ("#5b2a86", "#00758d")


class InvalidTenantSetting(ValueError):
    """A slug, hostname or other tenant setting that cannot be accepted; the message says why."""


def validate_slug(slug: str) -> str:
    """Return the slug if it can name a tenant's subdomain; raise ``InvalidTenantSetting`` otherwise."""
    if not SLUG_PATTERN.match(slug):
        raise InvalidTenantSetting(
            f"{slug!r} is not a valid slug: use 1 to 63 lower-case letters, digits and inner hyphens")
    if slug in RESERVED_SLUGS:
        raise InvalidTenantSetting(f"{slug!r} is reserved")
    return slug


def validate_color(color: str) -> str:
    """Return a ``#rrggbb`` colour in lower case; raise ``InvalidTenantSetting`` otherwise."""
    color = color.strip().lower()
    if not COLOR_PATTERN.match(color):
        raise InvalidTenantSetting(f"{color!r} is not a colour: use #rrggbb")
    return color


def brand_colors(tenant: Tenant | None) -> tuple[str, str]:
    """The primary and accent colours of a tenant's pages (the movement's own on the global site)."""
    if tenant is None:
        return DEFAULT_COLORS
    colors = (tenant.primary_color or "", tenant.accent_color or "")
    return tuple(c if COLOR_PATTERN.match(c) else d for c, d in zip(colors, DEFAULT_COLORS))


def create_tenant(slug: str, name: str, kind: TenantKind, admin_email: str | None = None,
                  **settings) -> Tenant:
    """Register a partner tenant (and its first admin, when an email is given); the movement is built in
    (``movement.ensure``)."""
    validate_slug(slug)
    if kind is TenantKind.MOVEMENT:
        raise InvalidTenantSetting("the HeForShe movement is built in: no tenant can be created as one")
    for color_setting in ("primary_color", "accent_color"):
        if color_setting in settings:
            settings[color_setting] = validate_color(settings[color_setting])
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise InvalidTenantSetting(f"a tenant with slug {slug!r} exists already")
    tenant = Tenant(slug=slug, name=name, kind=kind, **settings)
    db.session.add(tenant)
    db.session.flush()
    if admin_email:
        with tenant_context(tenant):
            member = find_or_create_member(admin_email)
            member.role = Role.ADMIN
            db.session.flush()
    return tenant


def configure(tenant: Tenant, map_visibility: MapVisibility | None = None, privacy_k: int | None = None,
              listed: bool | None = None, email_confirmation: EmailConfirmation | None = None) -> Tenant:
    """Change the settings given (None leaves one as it is); the privacy threshold never goes below 5.
    Written as the tenant: on PostgreSQL the app role may change no other tenant's row."""
    if privacy_k is not None:
        try:
            tenant.privacy_k = privacy.validate_k(privacy_k)
        except ValueError as error:
            raise InvalidTenantSetting(str(error)) from error
    if map_visibility is not None:
        tenant.map_visibility = map_visibility
    if listed and tenant.is_movement:
        raise InvalidTenantSetting("the HeForShe movement is not a partner: it cannot be listed as one")
    if listed is not None:
        tenant.listed = listed
    if email_confirmation is not None:
        # Applies to commitments made from now on: one waiting for a confirmation keeps waiting for it.
        tenant.email_confirmation = email_confirmation
    with tenant_context(tenant):
        db.session.flush()
    return tenant


def set_attack_mode(tenant: Tenant, enabled: bool, reason: str) -> Tenant:
    """Turn the tenant's own attack mode on or off, recording why (``core.attack_mode``); other workers follow
    within the host cache's seconds. Written as the tenant, like ``configure``."""
    with tenant_context(tenant):  # first: reading an expired tenant's id would flush the change without it
        tenant.attack_mode = enabled
        attack_mode.record_change(enabled, reason, tenant_id=tenant.id, site=tenant.slug)
    return tenant


@dataclass(frozen=True)
class TenantOverview:
    """One line of the operator's list of tenants."""

    slug: str
    name: str
    kind: str
    status: str
    listed: bool
    men: int
    total: int
    hostnames: list[str]


def tenant_overview() -> list[TenantOverview]:
    """Every tenant with its counts (from the global roll-up) and custom hostnames, for the operator."""
    per_tenant = rollup.global_counts(("tenant",)).dimension("tenant")
    hostnames: dict[int, list[str]] = {}
    for entry in db.session.scalars(select(TenantHostname).order_by(TenantHostname.hostname)):
        hostnames.setdefault(entry.tenant_id, []).append(entry.hostname)
    overview = []
    for tenant in db.session.scalars(select(Tenant).order_by(Tenant.slug)):
        counts = per_tenant.get(str(tenant.id), {"total": 0, "men": 0})
        overview.append(TenantOverview(tenant.slug, tenant.name, tenant.kind.value, tenant.status.value,
                                       tenant.listed, counts["men"], counts["total"], hostnames.get(tenant.id, [])))
    return overview
