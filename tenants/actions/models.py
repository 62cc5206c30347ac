"""What people plan and do after committing, the reminders they asked for, and the stories they tell.

Each row belongs to one commitment of one tenant (composite keys, as every tenant table), and goes with it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from core.extensions import db
from core.tenancy import TenantScoped
from tenants.models import _enum, utcnow

_COMMITMENT = (["tenant_id", "commitment_id"], ["commitments.tenant_id", "commitments.id"])


class PlannedAction(TenantScoped, db.Model):
    """An action of the catalogue (``catalogue.ACTIONS``) a person said they would do, and when they did it."""

    __tablename__ = "planned_actions"
    __table_args__ = (ForeignKeyConstraint(*_COMMITMENT, ondelete="CASCADE"),
                      UniqueConstraint("tenant_id", "commitment_id", "action"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    commitment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(40))
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Reminder(TenantScoped, db.Model):
    """The "Did you do it?" mail a person asked for on the sign-up form, under the reminders notice of
    ``consent_version``. ``asked`` mails have gone, ``answered`` of them were answered; the next goes at ``due_at``
    (None: no more). A link is good for the one mail it came in, until that mail is answered."""

    __tablename__ = "action_reminders"
    __table_args__ = (ForeignKeyConstraint(*_COMMITMENT, ondelete="CASCADE"),
                      UniqueConstraint("tenant_id", "commitment_id"),
                      Index("ix_action_reminders_due", "tenant_id", "due_at"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    commitment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    consent_version: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    asked: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    last_answer: Mapped[str | None] = mapped_column(String(8))  # "done" or "not_yet"
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StoryStatus(enum.Enum):
    PENDING = "pending"  # waiting in the moderation queue (new, or reported)
    PUBLISHED = "published"
    REJECTED = "rejected"


class Story(TenantScoped, db.Model):
    """What a person says they did, in their own words: shown on the tenant's stories page once an admin (the
    operator, for the movement) approves it; a report sends it back to the queue."""

    __tablename__ = "stories"
    __table_args__ = (ForeignKeyConstraint(*_COMMITMENT, ondelete="CASCADE"),
                      Index("ix_stories_status", "tenant_id", "status", "created_at"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    commitment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[StoryStatus] = mapped_column(_enum(StoryStatus, length=10), default=StoryStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(320))
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
