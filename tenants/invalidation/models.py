"""An invalidation: one operator decision that took a cluster of a tenant's commitments out of the counts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import utcnow


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
