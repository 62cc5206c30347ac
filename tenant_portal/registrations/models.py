"""Which student of which term has been brought in already (so that a batch sent again changes nothing), and the
embeddable opt-in's key, embedding origins and used launch tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import utcnow


class Registration(TenantScoped, db.Model):
    """A student who opted in during one term's registration, and the commitment it made or found. Students who
    did not opt in leave no row: nothing about them is kept."""

    __tablename__ = "registrations"

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    commitment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RegistrationWidget(TenantScoped, db.Model):
    """The embeddable opt-in: the public key the registration system signs its launch tokens with, and the
    origins of the pages allowed to embed it."""

    __tablename__ = "registration_widgets"

    public_key: Mapped[str] = mapped_column(Text)
    embed_origins: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class UsedLaunchToken(TenantScoped, db.Model):
    """A launch token already used (its ``jti``), kept until it would have expired anyway: each is good once."""

    __tablename__ = "registration_used_tokens"

    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
