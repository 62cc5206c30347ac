"""A tenant's connection to its identity provider, and what signing in through it leaves behind."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import _enum, utcnow


class Protocol(enum.Enum):
    OIDC = "oidc"
    SAML = "saml"


class SsoConnection(TenantScoped, db.Model):
    """How one tenant's people sign in: one identity provider per tenant (``tenant_id`` is the key).

    Secrets (the OIDC client secret, the SAML service provider's private key) are stored encrypted.
    """

    __tablename__ = "sso_connections"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "default_unit_id"], ["units.tenant_id", "units.id"]),
    )

    protocol: Mapped[Protocol] = mapped_column(_enum(Protocol))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_client_id: Mapped[str | None] = mapped_column(String(255))
    oidc_client_secret: Mapped[str | None] = mapped_column(Text)
    oidc_scopes: Mapped[str] = mapped_column(String(255), default="openid email profile")
    saml_idp_metadata_url: Mapped[str | None] = mapped_column(String(500))
    saml_idp_metadata_xml: Mapped[str | None] = mapped_column(Text)
    # When the metadata was last read from its URL (``flask sso refresh``, or after a refused signature).
    saml_idp_metadata_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    saml_sp_certificate: Mapped[str | None] = mapped_column(Text)
    saml_sp_private_key: Mapped[str | None] = mapped_column(Text)
    # Where the identity provider puts each fact (a claim name, or a SAML attribute name).
    claim_email: Mapped[str] = mapped_column(String(255), default="email")
    claim_name: Mapped[str] = mapped_column(String(255), default="name")
    claim_unit: Mapped[str | None] = mapped_column(String(255))
    claim_groups: Mapped[str] = mapped_column(String(255), default="groups")
    admin_group: Mapped[str | None] = mapped_column(String(255))
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # What the provider sent at the last "test connection", and the last failure, for the admin.
    last_test: Mapped[dict | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What the admin should change at the identity provider (a key of ``services.ADMIN_HINTS``).
    last_error_hint: Mapped[str | None] = mapped_column(String(32))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SsoEmailDomain(db.Model):
    """An email domain a tenant's sign-in claims. It sends people to that sign-in (home-realm discovery) only once
    proven: by a DNS TXT record ``_heforshe-verification.<domain>`` holding ``verification_token``, or by the
    operator. Several tenants may claim a domain; the first to prove it owns it (one proven claim per domain).

    Readable before any tenant is known, like custom hostnames; written only inside its tenant.
    """

    __tablename__ = "sso_email_domains"
    __table_args__ = (
        Index("uq_sso_email_domains_proven_domain", "domain", unique=True,
              sqlite_where=text("verified_at IS NOT NULL"), postgresql_where=text("verified_at IS NOT NULL")),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    verification_token: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SsoRequest(TenantScoped, db.Model):
    """A SAML sign-in under way. The identity provider answers with a cross-site POST, which carries no
    (SameSite=Lax) session cookie, so the request's id waits here under a one-time RelayState token."""

    __tablename__ = "sso_requests"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(16))
    next_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UsedAssertion(TenantScoped, db.Model):
    """A SAML assertion already accepted, kept until it expires so a replay is refused."""

    __tablename__ = "sso_used_assertions"

    assertion_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UnmappedUnit(TenantScoped, db.Model):
    """A unit name the identity provider sent that matches none of the tenant's units (listed for the admin)."""

    __tablename__ = "sso_unmapped_units"

    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    times_seen: Mapped[int] = mapped_column(Integer, default=1)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
