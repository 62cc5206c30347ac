"""What the operators keep: partner applications, the operators themselves, each tenant's standing with HeForShe
(country, sponsorship) and the global audit log. None of it belongs to a tenant: these are global tables."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from core.extensions import db
from tenants.models import utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    """Stored as the enum's value in a plain string column, as the tenants' enums are."""
    return Enum(cls, native_enum=False, create_constraint=False, length=24,
                values_callable=lambda members: [m.value for m in members])


class ApplicationKind(enum.Enum):
    """The kinds of organisation that may apply (a subset of ``TenantKind``, same values)."""

    CORPORATION = "corporation"
    UNIVERSITY = "university"
    GOVERNMENT = "government"
    NGO = "ngo"


class ApplicationStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PartnerApplication(db.Model):
    """An organisation's request to join, waiting in the operators' queue until approved or rejected; once
    approved, the tenant it became is the one whose slug is its ``subdomain`` (slugs never change)."""

    __tablename__ = "partner_applications"
    __table_args__ = (Index("ix_partner_applications_status_created_at", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    organisation: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ApplicationKind] = mapped_column(_enum(ApplicationKind))
    country_code: Mapped[str] = mapped_column(String(2))
    website: Mapped[str] = mapped_column(String(500))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(320))
    subdomain: Mapped[str] = mapped_column(String(63), index=True)
    language: Mapped[str] = mapped_column(String(8))
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[ApplicationStatus] = mapped_column(_enum(ApplicationStatus), default=ApplicationStatus.PENDING)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(320))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Operator(db.Model):
    """Someone of the HeForShe team who runs the console. Signs in through the team's own identity provider (by
    verified address), or with a password and a TOTP code when it is down (break-glass)."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(Text)  # encrypted (core.crypto)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A session names the version it was made under: new credentials or removal end every older session.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PartnerRecord(db.Model):
    """A tenant's standing with HeForShe, kept beside its row: where it is and why it was last suspended (whether it
    is sponsored is its plan's business: ``tenants.models.TenantPlan``, which billing reads too). Every row may be
    read (the console lists them all); on PostgreSQL a row is written only as its tenant (row-level security, migration 0025), like ``tenant_hostnames``."""

    __tablename__ = "partner_records"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    website: Mapped[str | None] = mapped_column(String(500))
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class OperatorAuditEntry(db.Model):
    """One thing an operator did (signed in, approved, suspended...), kept for good: the app may add, never change."""

    __tablename__ = "operator_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    operator_email: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
