"""A gift as Stripe confirmed it, and a tenant's match pledge."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import _enum, utcnow


class Gift(TenantScoped, db.Model):
    """One confirmed payment to UN Women made through this tenant's pages (a monthly gift: one per month)."""

    __tablename__ = "gifts"
    __table_args__ = (
        # Stripe's id of what was paid (a Checkout Session, or an invoice of a monthly gift): an event delivered
        # twice records the gift once.
        UniqueConstraint("tenant_id", "reference"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    reference: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(Integer)  # in the currency's smallest unit (cents)
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217, upper case
    monthly: Mapped[bool] = mapped_column(Boolean, default=False)
    # HMAC of the donor's canonical address with the people pepper: counts donors, names nobody.
    donor_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MatchKind(enum.Enum):
    PER_COMMITMENT = "per_commitment"  # an amount for each commitment, up to a cap
    GIFTS = "gifts"  # gifts made through the tenant's pages matched, up to a cap


class MatchPledge(TenantScoped, db.Model):
    """What the tenant promises to give beside its people; at most one per tenant."""

    __tablename__ = "match_pledges"
    __table_args__ = (
        CheckConstraint("cap > 0", name="cap_positive"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
    )

    kind: Mapped[MatchKind] = mapped_column(_enum(MatchKind, length=16))
    amount: Mapped[int | None] = mapped_column(Integer)  # per commitment, smallest unit; None for GIFTS
    cap: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320))
