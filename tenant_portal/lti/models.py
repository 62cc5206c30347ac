"""The learning platforms a tenant registered (with their deployments), the courses that launched the tool and
their units, the tool's signing key, the nonces already used and the launches refused."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import utcnow


class Platform(TenantScoped, db.Model):
    """A learning platform registered by an admin: its issuer, our client id there, and its addresses."""

    __tablename__ = "lti_platforms"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    key_set_url: Mapped[str] = mapped_column(String(1000))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Deployment(TenantScoped, db.Model):
    """A deployment id the platform may launch with."""

    __tablename__ = "lti_deployments"

    platform_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class Course(TenantScoped, db.Model):
    """A course (the launch's context) seen once it launched the tool, and the unit its students commit in."""

    __tablename__ = "lti_courses"

    platform_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class ToolKey(TenantScoped, db.Model):
    """The tool's RSA key (for the platform's token URL), made with the first platform; kept encrypted."""

    __tablename__ = "lti_tool_keys"

    kid: Mapped[str] = mapped_column(String(64))
    private_key: Mapped[str] = mapped_column(Text)  # core.crypto.encrypt of the PEM
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UsedNonce(TenantScoped, db.Model):
    """A launch's nonce, used once; kept until its state would have expired anyway."""

    __tablename__ = "lti_used_nonces"

    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Problem(TenantScoped, db.Model):
    """A refused launch or a score the platform did not take, for the admin's page (the latest few are kept)."""

    __tablename__ = "lti_problems"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
