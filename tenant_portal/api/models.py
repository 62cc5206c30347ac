"""API keys and the answers kept for idempotent writes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import utcnow

SCOPES = ("stats:read", "commitments:read", "commitments:write", "registrations:write", "units:write",
          "webhooks:manage")


class ApiKey(TenantScoped, db.Model):
    """A key a partner's system sends as ``Authorization: Bearer <prefix>.<secret>``.

    Only the SHA-256 of the whole token is kept: the token is 256 random bits, so a plain hash is as good as a
    slow one and costs nothing per request. The prefix finds the row; the hash is compared in constant time.
    """

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotentAnswer(TenantScoped, db.Model):
    """The answer given to a write with an ``Idempotency-Key``, kept 24 hours so a retry gets the same one.

    The row is inserted before the write and filled in the same transaction: a concurrent retry waits on the
    insert (PostgreSQL) and then reads the finished answer; a failed write takes its row with it.
    """

    __tablename__ = "api_idempotent_answers"
    __table_args__ = (Index("ix_api_idempotent_answers_created_at", "tenant_id", "created_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
