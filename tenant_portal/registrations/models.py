"""Which student of which term has been brought in already, so that a batch sent again changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Uuid
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
