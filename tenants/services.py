"""Business logic inside a tenant: provisioning, host lookup, sign-up and withdrawal.

Plain functions over domain objects. They flush and never commit: the request (or the command) that
calls them owns the transaction.
"""

from __future__ import annotations

import copy
import re
import time
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import idna
from flask import current_app, has_app_context
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from uuid6 import uuid7

from core import places, privacy
from core.database import insert_new
from core.extensions import db
from core.rollup import services as rollup
from core.rollup.models import Gender, Source
from core.tenancy import current_tenant_id, tenant_context
from tenants.models import (
    Commitment,
    MapVisibility,
    Member,
    Role,
    Target,
    TargetMetric,
    Tenant,
    TenantHostname,
    TenantKind,
    TenantStatus,
    TenantText,
    Unit,
    utcnow,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
HOSTNAME_PATTERN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
RESERVED_SLUGS = frozenset({
    "www", "admin", "api", "static", "app", "assets", "auth", "billing", "cdn", "core", "dashboard", "docs",
    "global", "help", "login", "mail", "operator", "portal", "root", "signup", "sso", "status", "support",
    "heforshe", "unwomen", "localhost",
})
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
COLOR_PATTERN = re.compile(r"^#[0-9a-f]{6}$")
DEFAULT_COLORS = ("#5b2a86", "#00758d")
HOST_CACHE_SECONDS = 2.0


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
    """Register a tenant (and its first admin, when an email is given)."""
    validate_slug(slug)
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
              listed: bool | None = None) -> Tenant:
    """Change the settings given (None leaves one as it is); the privacy threshold never goes below 5.
    Written as the tenant: on PostgreSQL the app role may change no other tenant's row."""
    if privacy_k is not None:
        try:
            tenant.privacy_k = privacy.validate_k(privacy_k)
        except ValueError as error:
            raise InvalidTenantSetting(str(error)) from error
    if map_visibility is not None:
        tenant.map_visibility = map_visibility
    if listed is not None:
        tenant.listed = listed
    with tenant_context(tenant):
        db.session.flush()
    return tenant


def add_hostname(tenant: Tenant, hostname: str, verified: bool = True) -> TenantHostname:
    """Attach a custom domain to a tenant; only a verified one routes to it."""
    hostname = hostname.strip().lower().rstrip(".")
    if not HOSTNAME_PATTERN.match(hostname):
        raise InvalidTenantSetting(f"{hostname!r} is not a valid hostname")
    if not hostname_available(hostname, tenant.id):
        raise InvalidTenantSetting(f"{hostname!r} is already in use")
    with tenant_context(tenant):
        entry = TenantHostname(tenant_id=tenant.id, hostname=hostname, verified_at=utcnow() if verified else None)
        db.session.add(entry)
        db.session.flush()
    return entry


def hostname_owner(hostname: str) -> int | None:
    """The tenant whose verified custom domain this is. Unverified claims own nothing: several tenants may claim a
    hostname, and the first to verify it gets it."""
    return db.session.scalar(select(TenantHostname.tenant_id).where(TenantHostname.hostname == hostname,
                                                                    TenantHostname.verified_at.is_not(None)))


def hostname_available(hostname: str, tenant_id: int) -> bool:
    """Whether a tenant may claim a hostname: nobody verified it, and this tenant has not claimed it already.
    (Another tenant's unverified claim never blocks the domain's real owner.)"""
    return hostname_owner(hostname) is None and db.session.scalar(select(TenantHostname.id).where(
        TenantHostname.hostname == hostname, TenantHostname.tenant_id == tenant_id)) is None


def site_address(tenant: Tenant) -> str:
    """The tenant's address under ``BASE_DOMAIN``, for links made outside a request: https where the session
    cookie is secure (in production), http otherwise."""
    scheme = "https" if current_app.config["SESSION_COOKIE_SECURE"] else "http"
    return f"{scheme}://{tenant.slug}.{current_app.config['BASE_DOMAIN']}/"


@contextmanager
def on_site(tenant: Tenant, base_url: str | None = None) -> Iterator[None]:
    """Work for a tenant outside a request (a command, the mail worker): inside the tenant's context and a
    request context on its address (``base_url``, by default ``site_address``), so that external
    ``url_for`` links and ``force_locale`` work as in one of its pages."""
    with current_app.test_request_context(base_url=base_url or site_address(tenant)), tenant_context(tenant):
        yield


@dataclass(frozen=True)
class HostMatch:
    """What a Host header names: the global site (``tenant`` None) or one tenant."""

    tenant: Tenant | None


def match_host(host: str, base_domain: str) -> HostMatch | None:
    """Find the site a host names; None when it names nothing we serve (the caller answers 404).

    A host's tenant (its row, less the images) is remembered in this process for ``HOST_CACHE_SECONDS``, so
    that most requests read no tenant row at all. A change to a tenant made through this process forgets
    it at once (see ``_forget_changed_tenants``); other workers see it, a suspension or a removed custom
    domain within those seconds.
    """
    host = host.split(":", 1)[0].strip().lower().rstrip(".")
    if host == base_domain:
        return HostMatch(tenant=None)
    remembered = _remembered_hosts()
    values, until = remembered.get(host, (None, 0.0))
    if time.monotonic() < until:
        return HostMatch(tenant=_detached_tenant(values))
    if host.endswith("." + base_domain):
        slug = host[: -len(base_domain) - 1]
        if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
            return None
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    else:
        tenant = db.session.scalar(
            select(Tenant).join(TenantHostname, TenantHostname.tenant_id == Tenant.id)
            .where(TenantHostname.hostname == host, TenantHostname.verified_at.is_not(None)))
    if tenant is None or tenant.status is not TenantStatus.ACTIVE:
        return None
    remembered[host] = ({key: getattr(tenant, key) for key in _REMEMBERED_COLUMNS},
                        time.monotonic() + HOST_CACHE_SECONDS)
    return HostMatch(tenant=tenant)


_REMEMBERED_COLUMNS = tuple(column.key for column in Tenant.__mapper__.column_attrs if not column.deferred)


def _remembered_hosts() -> dict[str, tuple[dict, float]]:
    return current_app.extensions.setdefault("tenant_hosts", {})  # per app: tests build many


def _detached_tenant(values: dict) -> Tenant:
    """The remembered row as this session's ``Tenant``, without a query; its images load when used."""
    tenant = Tenant(**{key: copy.copy(value) for key, value in values.items()})
    make_transient_to_detached(tenant)
    return db.session.merge(tenant, load=False)


@event.listens_for(Session, "after_flush")
def _note_changed_tenants(session, flush_context) -> None:
    changed = {obj.id for obj in (*session.dirty, *session.deleted) if isinstance(obj, Tenant)}
    if changed:
        session.info.setdefault("changed_tenants", set()).update(changed)


@event.listens_for(Session, "after_commit")
def _forget_changed_tenants(session) -> None:
    changed = session.info.pop("changed_tenants", None)
    if changed and has_app_context():
        remembered = _remembered_hosts()
        for host, (values, _) in list(remembered.items()):
            if values["id"] in changed:
                del remembered[host]


@event.listens_for(Session, "after_soft_rollback")
def _keep_remembered_tenants(session, previous_transaction) -> None:
    session.info.pop("changed_tenants", None)


def fold_domain(domain: str) -> str:
    """A mail domain in the one form it is compared in: compatibility forms folded (NFKC: fullwidth
    ``ｅxample.org`` is ``example.org``), lower case, no final dot, and international names as IDNA
    A-labels (``bücher.example`` and ``xn--bcher-kva.example`` are one domain)."""
    domain = unicodedata.normalize("NFKC", domain).strip().lower().rstrip(".")
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain  # no valid name (the forms refuse it): compared folded, as written


def email_domain(email: str) -> str:
    """The domain of an address, folded as ``fold_domain``: what allowed domains and discovery compare."""
    return fold_domain(unicodedata.normalize("NFKC", email).rpartition("@")[2])


def canonical_email(email: str) -> str:
    """The form of an address used to recognise a person: compatibility forms folded (NFKC), lower case,
    the domain as ``fold_domain``; Gmail's dots and +tags folded. Look-alike spellings of one address
    (``sam@ｅxample.org``) are one person."""
    local, _, domain = unicodedata.normalize("NFKC", email.strip()).lower().rpartition("@")
    domain = fold_domain(domain)
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def refold_member_keys() -> tuple[int, list[list[Member]]]:
    """Recompute the current tenant's members' canonical keys from their addresses, after the folding changed.

    Returns how many keys changed, and the groups of members whose addresses now fold to one key (stored
    twice before the folding knew them alike): those keep their old keys, for an admin to keep one of them.
    """
    holders: dict[str, list[Member]] = {}
    for member in db.session.scalars(select(Member).order_by(Member.created_at, Member.id)):
        holders.setdefault(canonical_email(member.email), []).append(member)
    changed, clashes = 0, []
    for key, group in holders.items():
        if len(group) > 1:
            clashes.append(group)
        elif group[0].email_canonical != key:
            group[0].email_canonical = key
            changed += 1
    db.session.flush()
    return changed, clashes


def find_or_create_member(email: str, display_name: str | None = None) -> Member:
    """The current tenant's member with this address, created if new (safe under concurrent sign-ups)."""
    member_id = _member_id(email, display_name)
    return db.session.scalars(select(Member).where(Member.id == member_id)).one()


def _member_id(email: str, display_name: str | None) -> uuid.UUID:
    """The id of the current tenant's member with this address, created if new: one statement for a newcomer."""
    canonical = canonical_email(email)
    new_id = insert_new(Member.__table__, ("tenant_id", "email_canonical"), dict(
        tenant_id=current_tenant_id(), id=uuid7(), email=email.strip(), email_canonical=canonical,
        display_name=display_name, role=Role.MEMBER, created_at=utcnow()))
    if new_id is not None:
        return new_id
    return db.session.scalar(select(Member.id).where(Member.email_canonical == canonical))


@dataclass
class SignUp:
    """What a person gives when committing."""

    email: str
    gender: Gender
    country_code: str
    language: str
    consent_version: str
    name: str | None = None
    name_public: bool = False
    gender_description: str | None = None
    city: str | None = None
    place_id: int | None = None
    unit_id: uuid.UUID | None = None
    source: Source = Source.WEB
    verified: bool = False
    created_at: datetime | None = None


def commit(signup: SignUp) -> bool:
    """Record a commitment in the current tenant; returns True if it counted, False for a repeat.

    A repeat (the same person, however the address is written) changes nothing; a person who had
    withdrawn and commits again is counted again.
    """
    member_id = _member_id(signup.email, signup.name)
    values = dict(
        tenant_id=current_tenant_id(), id=uuid7(), member_id=member_id, gender=signup.gender,
        gender_description=signup.gender_description if signup.gender is Gender.SELF_DESCRIBED else None,
        country_code=signup.country_code, city=signup.city, place_id=signup.place_id, unit_id=signup.unit_id,
        source=signup.source, language=signup.language, consent_version=signup.consent_version,
        name_public=signup.name_public, verified=signup.verified, created_at=signup.created_at or utcnow(),
    )
    if insert_new(Commitment.__table__, ("tenant_id", "member_id"), values) is None:
        return _recommit(member_id)
    rollup.record(_CountedFacts.from_values(values), +1)
    return True


def _recommit(member_id: uuid.UUID) -> bool:
    row = db.session.execute(
        update(Commitment)
        .where(Commitment.member_id == member_id, Commitment.withdrawn_at.is_not(None))
        .values(withdrawn_at=None)
        .returning(Commitment.gender, Commitment.country_code, Commitment.unit_id, Commitment.place_id,
                   Commitment.created_at, Commitment.source)
    ).one_or_none()
    if row is None:
        return False
    rollup.record(_CountedFacts(*row), +1)
    return True


def withdraw(commitment: Commitment) -> bool:
    """Withdraw a commitment and lower the counts; False if it was withdrawn already."""
    row = db.session.execute(
        update(Commitment)
        .where(Commitment.id == commitment.id, Commitment.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow())
        .returning(Commitment.gender, Commitment.country_code, Commitment.unit_id, Commitment.place_id,
                   Commitment.created_at, Commitment.source)
    ).one_or_none()
    if row is None:
        return False
    rollup.record(_CountedFacts(*row), -1)
    db.session.expire(commitment)
    return True


@dataclass(frozen=True)
class _CountedFacts:
    gender: Gender
    country_code: str
    unit_id: uuid.UUID | None
    place_id: int | None
    created_at: datetime
    source: Source

    @classmethod
    def from_values(cls, values: dict) -> "_CountedFacts":
        return cls(values["gender"], values["country_code"], values["unit_id"], values["place_id"],
                   values["created_at"], values["source"])


def locate(country_code: str, city: str | None, place_id: int | None, language: str) -> tuple[str | None, int | None]:
    """The city to store and its place id: a place picked from the suggestions, else the typed name
    when it is exactly a known city of that country (so it shows on the maps), else the text alone."""
    if place_id is not None:
        return places.get(place_id, "en").name, place_id
    if city:
        match = next((p for p in places.search(country_code, city, language, limit=3)
                      if p.name.casefold() == city.casefold()), None)
        if match is not None:
            return places.get(match.id, "en").name, match.id
    return city, None


def has_committed(member: Member) -> bool:
    """Whether this member's commitment stands (made and not withdrawn)."""
    return db.session.scalar(select(Commitment.id).where(Commitment.member_id == member.id,
                                                         Commitment.withdrawn_at.is_(None))) is not None


def signup_units() -> list[Unit]:
    """The current tenant's units a person can pick at sign-up, by name."""
    return list(db.session.scalars(select(Unit).order_by(Unit.name)))


def unit_in_tenant(unit_id: uuid.UUID) -> Unit | None:
    """One of the current tenant's units, or None (another tenant's unit is not found)."""
    return db.session.scalars(select(Unit).where(Unit.id == unit_id)).one_or_none()


def tenant_texts(language: str) -> TenantText | None:
    """The current tenant's own wording in ``language``, if it has written any."""
    return db.session.scalars(select(TenantText).where(TenantText.language == language)).one_or_none()


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


def public_target(today: date | None = None) -> dict | None:
    """The current tenant's published target with its progress: of the overall targets counting men or
    commitments that have started, the one with the nearest deadline not yet passed."""
    today = today or utcnow().date()
    target = db.session.scalars(
        select(Target).where(Target.public.is_(True), Target.unit_id.is_(None), Target.deadline >= today,
                             Target.metric.in_([TargetMetric.MEN, TargetMetric.ALL]),
                             or_(Target.starts_on.is_(None), Target.starts_on <= today))
        .order_by(Target.deadline, Target.id)).first()
    if target is None:
        return None
    counts = rollup.tenant_counts()
    current = counts.men if target.metric is TargetMetric.MEN else counts.total
    # Rounded down, so that 100% is shown only once the target is reached.
    return {"metric": target.metric.value, "value": target.value, "current": current,
            "percent": min(100, 100 * current // target.value), "deadline": target.deadline}
