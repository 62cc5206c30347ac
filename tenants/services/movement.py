"""The HeForShe movement: the built-in tenant of people who commit on their own, without a partner organisation.

It is a tenant row like any other (kind ``movement``, the reserved slug ``heforshe``), so the ORM guard and
PostgreSQL's row-level security keep its people apart from every partner's, and theirs from it. It has no units
(the country is its only place), no admins and so no portal, no host of its own, and is listed nowhere as a
partner. On the global host, the paths in ``PATHS`` are its pages (``hosts.match_host``), and only while it is
open (``is_open``); every other path there stays the global site's.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from tenants.models import EmailConfirmation, Tenant, TenantKind

SLUG = "heforshe"  # reserved (registry.RESERVED_SLUGS): no partner can take it, and no host names it
NAME = "HeForShe"
#: The movement's pages on the global host: each path and everything under it.
PATHS = ("/commit", "/thanks", "/confirm", "/me", "/sso/logout", "/share-card.png", "/actions", "/stories")


def serves(path: str) -> bool:
    """Whether a path on the global host is one of the movement's pages."""
    return any(path == own or path.startswith(own + "/") for own in PATHS)


def find() -> Tenant | None:
    """The movement's row, when it was created (``ensure``)."""
    return db.session.scalar(select(Tenant).where(Tenant.slug == SLUG))


def ensure() -> tuple[Tenant, bool]:
    """The movement's row, created with HeForShe's own colours, every language and the age question if it is missing; returns it
    and whether it was created. Safe to run at every deploy."""
    movement = find()
    if movement is not None:
        return movement, False
    # Anyone may commit here, children too: the form asks whether they are old enough to consent alone.
    movement = Tenant(slug=SLUG, name=NAME, kind=TenantKind.MOVEMENT, listed=False, ask_age=True)
    db.session.add(movement)
    db.session.flush()
    return movement, True


def is_open(movement: Tenant | None) -> bool:
    """Whether people may commit on the global host. Closed, the movement's pages are not found and the global
    page offers no form."""
    return not why_closed(movement)


def why_closed(movement: Tenant | None) -> list[str]:
    """What keeps the movement closed (nothing: it is open). It opens only while every count of its people can
    be trusted: confirmed by email, behind the sign-up rate limits, and each person counted once across tenants
    (which needs the people pepper)."""
    if movement is None:
        return ["it does not exist yet: run `flask tenants ensure-movement`"]
    config = current_app.config
    reasons = []
    if not movement.is_active:
        reasons.append("it is suspended")
    if not confirms_email(movement):
        reasons.append("its email confirmation is off")
    if config.get("RATELIMIT_ENABLED", True) is False:
        reasons.append("rate limits are off (RATELIMIT_ENABLED)")
    if not config.get("PEOPLE_PEPPER"):
        reasons.append("PEOPLE_PEPPER is not set")
    return reasons


def confirms_email(movement: Tenant) -> bool:
    """The gate's email condition: the movement asks people to confirm their address by mail."""
    return movement.email_confirmation is not EmailConfirmation.OFF
