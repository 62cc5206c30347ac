"""Tenants and what they own. Every tenant-owned table has ``tenant_id`` first in its primary key."""

from __future__ import annotations

import enum
import uuid
import zlib
from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from uuid6 import uuid7

from core.extensions import db
from core.i18n import LANGUAGES
from core.rollup.models import Gender, Source
from core.tenancy import TenantScoped


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _enum(cls: type[enum.Enum], length: int = 24) -> Enum:
    """Stored as the enum's value in a plain string column (portable, readable in SQL)."""
    return Enum(cls, native_enum=False, create_constraint=False, length=length,
                values_callable=lambda members: [m.value for m in members])


class TenantKind(enum.Enum):
    CORPORATION = "corporation"
    UNIVERSITY = "university"
    GOVERNMENT = "government"
    NGO = "ngo"
    OTHER = "other"
    MOVEMENT = "movement"  # the built-in HeForShe movement itself (tenants/services/movement.py), never a partner


class TenantStatus(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class UnitKind(enum.Enum):
    DEPARTMENT = "department"
    OFFICE = "office"
    SITE = "site"
    CAMPUS = "campus"
    FACULTY = "faculty"
    OTHER = "other"

    @property
    def is_department(self) -> bool:
        """Whether a person names a unit of this kind as their department (else as where they work or study)."""
        return self in (UnitKind.DEPARTMENT, UnitKind.FACULTY)


class Role(enum.Enum):
    MEMBER = "member"
    VIEWER = "viewer"
    ADMIN = "admin"


class MapVisibility(enum.Enum):
    PUBLIC = "public"
    MEMBERS = "members"
    ADMINS = "admins"


class EmailConfirmation(enum.Enum):
    """Whether people who commit by the web form are asked to confirm their address by mail."""

    OFF = "off"  # no mail; commitments count at once, unverified
    OPTIONAL = "optional"  # a mail; commitments count at once, and as verified once confirmed
    REQUIRED = "required"  # a mail; commitments count only once confirmed


class TargetMetric(enum.Enum):
    MEN = "men"
    ALL = "all"
    PARTICIPATION_RATE = "participation_rate"
    ACTED = "acted"  # people who did at least one of the actions they planned


class Tenant(db.Model):
    """A partner organisation. Not tenant-scoped itself: it is the registry the host lookup reads."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint("privacy_k >= 5", name="privacy_k_at_least_5"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(_enum(TenantKind))
    status: Mapped[TenantStatus] = mapped_column(_enum(TenantStatus), default=TenantStatus.ACTIVE)
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    enabled_languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(LANGUAGES))
    primary_color: Mapped[str] = mapped_column(String(7), default="#5b2a86")
    accent_color: Mapped[str] = mapped_column(String(7), default="#00758d")
    # Images load only when they are served, not with every request's tenant: pages put their fingerprints
    # (``*_version``, kept by ``_fingerprint``) in the images' URLs.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True, deferred_group="images")
    logo_mime: Mapped[str | None] = mapped_column(String(32))
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    map_visibility: Mapped[MapVisibility] = mapped_column(_enum(MapVisibility), default=MapVisibility.PUBLIC,
                                                          server_default=MapVisibility.PUBLIC.value)
    # No map, breakdown or export shows a group of fewer people than this (never below 5).
    privacy_k: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    favicon: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True, deferred_group="images")
    favicon_mime: Mapped[str | None] = mapped_column(String(32))
    logo_version: Mapped[str | None] = mapped_column(String(8))
    favicon_version: Mapped[str | None] = mapped_column(String(8))
    # The sign-up page's hero image (none: the HeForShe default).
    hero: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True, deferred_group="images")
    hero_mime: Mapped[str | None] = mapped_column(String(32))
    hero_version: Mapped[str | None] = mapped_column(String(8))
    # Eligible headcount of the whole organisation (for the participation rate), when the admins give it.
    eligible_men: Mapped[int | None] = mapped_column(Integer)
    eligible_total: Mapped[int | None] = mapped_column(Integer)
    # Admins may sign in with a password and a TOTP code when the identity provider is down.
    break_glass_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The sign-up form asks whether the person is of the digital-consent age of their country (core.consent_age).
    ask_age: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # While on, the public sign-up form asks the browser for a proof of work (an operator's switch, `flask
    # attack-mode`; the switch for every tenant at once is the latest core.models.AttackModeChange everywhere).
    attack_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    email_confirmation: Mapped[EmailConfirmation] = mapped_column(
        _enum(EmailConfirmation, length=8), default=EmailConfirmation.OPTIONAL,
        server_default=EmailConfirmation.OPTIONAL.value)
    # The sign-up form asks which pillar of HeForShe the person commits to (tenants/actions).
    ask_pillar: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Days after a commitment that the one "Did you do it?" mail goes to those who asked for it.
    reminder_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Moves with every change to what the public pages show that is not on this row (texts, units, targets, the
    # sign-in): pages kept rendered are keyed by the row (tenants.services.hosts.pages_changed).
    pages_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE

    @property
    def is_movement(self) -> bool:
        """Whether this is the built-in movement, where people commit on their own on the global host."""
        return self.kind is TenantKind.MOVEMENT

    @validates("logo", "favicon", "hero")
    def _fingerprint(self, key: str, image: bytes | None) -> bytes | None:
        setattr(self, f"{key}_version", None if image is None else f"{zlib.crc32(image):08x}")
        return image


class TenantHostname(db.Model):
    """A custom domain of a tenant; only verified ones route to it. Several tenants may claim a hostname; the
    first to verify it gets it (one verified entry per hostname), so an unverified claim never blocks its owner."""

    __tablename__ = "tenant_hostnames"
    __table_args__ = (
        UniqueConstraint("tenant_id", "hostname"),
        Index("uq_tenant_hostnames_verified_hostname", "hostname", unique=True,
              sqlite_where=text("verified_at IS NOT NULL"), postgresql_where=text("verified_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    hostname: Mapped[str] = mapped_column(String(253))
    # Ownership proof: a DNS TXT record _heforshe-verification.<hostname> carrying this token.
    verification_token: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TenantText(TenantScoped, db.Model):
    """A tenant's own wording of its sign-up page, in one language."""

    __tablename__ = "tenant_texts"

    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    headline: Mapped[str | None] = mapped_column(String(200))
    commitment_text: Mapped[str | None] = mapped_column(Text)
    thank_you_text: Mapped[str | None] = mapped_column(Text)


class Unit(TenantScoped, db.Model):
    """A department, office, campus or faculty; units form a tree and may have a place."""

    __tablename__ = "units"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["units.tenant_id", "units.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "external_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind))
    name: Mapped[str] = mapped_column(String(200))
    external_key: Mapped[str | None] = mapped_column(String(200))
    country_code: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Eligible headcount, when known: the participation rate is men committed / eligible men.
    eligible_men: Mapped[int | None] = mapped_column(Integer)
    eligible_total: Mapped[int | None] = mapped_column(Integer)


class Member(UserMixin, TenantScoped, db.Model):
    """A person known to one tenant (never shared across tenants)."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email_canonical"),
        UniqueConstraint("tenant_id", "sso_subject"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    email: Mapped[str] = mapped_column(String(320))
    email_canonical: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.MEMBER)
    # Set by single sign-on: the identity provider's stable id for the person, and their unit.
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The break-glass admin sign-in (off unless the operator turns it on for the tenant).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(Text)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last TOTP time step accepted: a code is good once, and never one older than that.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Part of every session's id (``get_id``): raising it ends all of this member's sessions at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def get_id(self) -> str:
        """What a session remembers of its member: the id and the session version it was made under."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """End every session of this member, on every device (sign-out, role change, new credentials)."""
        self.session_version = Member.session_version + 1

    @property
    def is_break_glass(self) -> bool:
        """Whether this member can sign in with the break-glass password (no sign-on may change them)."""
        return self.password_hash is not None


#: The counted rule, stated once (as the ``counted`` column): a commitment counts while it is not withdrawn, not
#: invalidated (found to be abuse), and not awaiting a confirmation its tenant requires.
COUNTED_RULE = "withdrawn_at IS NULL AND invalidated_at IS NULL AND NOT awaiting_confirmation"


class Commitment(TenantScoped, db.Model):
    """One person's commitment to one tenant; withdrawing or invalidating keeps the row and lowers the counts. A
    commitment made under the age of digital consent has no member: nothing about its person is kept.

    ``counted`` is computed by the database from ``COUNTED_RULE``; every change to what it reads goes through
    ``tenants.services.signups``, which moves the counts when it changes.
    """

    __tablename__ = "commitments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"]),
        ForeignKeyConstraint(["tenant_id", "department_id"], ["units.tenant_id", "units.id"]),
        ForeignKeyConstraint(["tenant_id", "invalidation_id"], ["invalidations.tenant_id", "invalidations.id"]),
        UniqueConstraint("tenant_id", "member_id"),
        CheckConstraint("length(country_code) = 2", name="country_code_length"),
        # Sign-ups grouped by where they came from, over time: a flood from one network or one domain.
        Index("ix_commitments_network_time", "tenant_id", "client_network", "created_at"),
        Index("ix_commitments_domain_time", "tenant_id", "email_domain", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    gender: Mapped[Gender] = mapped_column(_enum(Gender))
    gender_description: Mapped[str | None] = mapped_column(String(60))
    country_code: Mapped[str] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    place_id: Mapped[int | None] = mapped_column(Integer)
    # Where the person works or studies (an office, site or campus) and their department or faculty: two
    # choices, each optional; the commitment counts in both units.
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    department_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source: Mapped[Source] = mapped_column(_enum(Source), default=Source.WEB)
    language: Mapped[str] = mapped_column(String(8))
    consent_version: Mapped[str] = mapped_column(String(20))
    # When the person consented, where another system collected the consent (the API); else when it was made.
    consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The partner's own identifier for it, where its system sent one (the API): never shown to anyone else.
    external_id: Mapped[str | None] = mapped_column(String(100))
    name_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # Verified: the address was confirmed by mail (``confirmed_at``), or the organisation's sign-in vouched for it.
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Made while its tenant required a confirmation by mail, and not confirmed yet: not counted.
    awaiting_confirmation: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    invalidated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The operator's decision that invalidated it (``tenants.invalidation``), while it stands.
    invalidation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # HMAC-SHA256 of the canonical address under PEOPLE_PEPPER: the same person at another tenant has the same key.
    # None for a commitment without an address, which counts as a person of its own.
    person_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    counted: Mapped[bool] = mapped_column(Boolean, Computed(COUNTED_RULE, persisted=True))
    # Where a sign-up came from, for the operator's review (tenants/services/screening.py): the client's
    # network (a /24 or /56, never the address), the address's domain, and why it looks automated, if it does
    # (comma-joined reasons; a suspect sign-up is counted like any other).
    client_network: Mapped[str | None] = mapped_column(String(43))
    email_domain: Mapped[str | None] = mapped_column(String(253))
    suspect: Mapped[str | None] = mapped_column(String(100))
    # The pillar the person committed to (``tenants.actions.vocabulary.PILLARS``), when the form asked and they chose.
    pillar: Mapped[str | None] = mapped_column(String(16))
    # When the person first said they did an action they planned (``signups.mark_acted``): a fact the tallies count.
    acted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    member: Mapped[Member | None] = relationship(viewonly=True)
    unit: Mapped[Unit | None] = relationship(viewonly=True, foreign_keys="[Commitment.tenant_id, Commitment.unit_id]")
    department: Mapped[Unit | None] = relationship(
        viewonly=True, foreign_keys="[Commitment.tenant_id, Commitment.department_id]")


class Target(TenantScoped, db.Model):
    """A number the tenant commits to reach by a deadline, overall or for one unit."""

    __tablename__ = "targets"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["units.tenant_id", "units.id"], ondelete="CASCADE"),
        CheckConstraint("value > 0", name="value_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    metric: Mapped[TargetMetric] = mapped_column(_enum(TargetMetric))
    value: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When its released count first reached it (the ``target.reached`` webhook is sent then, once).
    reached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Invalidation(TenantScoped, db.Model):
    """Who invalidated which cluster (``criteria``), why and when, how many commitments it took out, and whether
    it was undone. The audit record of the decision: commitments point back to it (``invalidation_id``)."""

    __tablename__ = "invalidations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    criteria: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200))
    commitments: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(200))
    undo_reason: Mapped[str | None] = mapped_column(Text)


class TenantPlan(db.Model):
    """A tenant's plan and what billing says of it: the one row ``tenants.plans`` reads to decide what the tenant is
    entitled to. Like ``tenant_hostnames`` it is read before (or without) a tenant being set, by its key (the
    operators' list shows every tenant's), so it is no ``TenantScoped`` model; on PostgreSQL every row may be read
    and a row is written only as its tenant (row-level security, migration 0041).

    ``status`` is the Stripe subscription's, None where no subscription is behind the plan (Community, or a plan
    the operators granted). ``past_due_since`` is when a payment first failed, the start of the grace period."""

    __tablename__ = "tenant_plans"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    plan: Mapped[str] = mapped_column(String(32), default="community")
    status: Mapped[str | None] = mapped_column(String(24))
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    # Sponsored (no charge: a government, an NGO...): entitled to everything, whatever the plan; set by operators.
    sponsored: Mapped[bool] = mapped_column(Boolean, default=False)
    sponsored_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
