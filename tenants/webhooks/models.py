"""Webhooks: a tenant's endpoints, the outbox of messages to deliver to them, and each try's record."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import _enum, utcnow

#: The events an endpoint can ask for (``snapshot.published`` comes with the snapshots' own events).
EVENTS = ("commitment.created", "commitment.withdrawn", "target.reached")


class DeliveryStatus(enum.Enum):
    PENDING = "pending"  # waiting for its (next) try
    SENDING = "sending"  # leased by a worker until ``leased_until``
    DELIVERED = "delivered"
    FAILED = "failed"  # given up: tried for WEBHOOK_RETRY_HOURS, or its endpoint was turned off


class WebhookEndpoint(TenantScoped, db.Model):
    """An HTTPS address of the tenant's that is sent the events it asked for, signed with its own secret.

    The secret is kept encrypted (``core/crypto.py``): the worker needs it to sign, nobody needs to read it again.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(Text)  # Fernet token of the "whsec_..." secret
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookMessage(TenantScoped, db.Model):
    """One event for one endpoint: written in the transaction of the change it tells of, delivered by the
    worker. ``event_id`` is its ``webhook-id``, the same at every try and resend, so a receiver can ignore
    a message it has had already."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "endpoint_id"], ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
                             ondelete="CASCADE"),
        Index("ix_webhook_messages_due", "tenant_id", "status", "next_attempt_at"),
        Index("ix_webhook_messages_endpoint", "tenant_id", "endpoint_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, 16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retry_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # given up after a failure past it
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(TenantScoped, db.Model):
    """One try at delivering a message: the delivery log."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "message_id"], ["webhook_messages.tenant_id", "webhook_messages.id"],
                             ondelete="CASCADE"),
        Index("ix_webhook_attempts_message", "tenant_id", "message_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: no answer (refused address, timeout)
    error: Mapped[str | None] = mapped_column(String(500))
