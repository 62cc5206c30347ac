"""What billing keeps: each tenant's Stripe customer (and the checkout it is waiting for), and every Stripe event
received, until the worker has handled it. The plan itself is ``tenants.models.TenantPlan``: entitlements read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import utcnow


class BillingAccount(TenantScoped, db.Model):
    """The tenant's customer at Stripe (whose metadata names the tenant), its subscription, and the Checkout it
    started last: "processing…" until a webhook says the subscription is paid for."""

    __tablename__ = "billing_accounts"

    customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    subscription_id: Mapped[str | None] = mapped_column(String(255))
    checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    checkout_plan: Mapped[str | None] = mapped_column(String(32))
    checkout_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StripeEvent(db.Model):
    """An event Stripe sent, its signature checked, waiting for the worker (``billing/webhooks.py``). Its id is the
    key: the same event received again is the same row, handled once. The payload is dropped once handled."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_due", "handled_at", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when Stripe made it
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    payload: Mapped[dict | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
