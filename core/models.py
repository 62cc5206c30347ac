"""The core's own tables: the mail outbox, and attack mode's switches and spent proofs of work (the roll-up's
tables are in ``core/rollup/models.py``)."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db


class MailStatus(enum.Enum):
    QUEUED = "queued"  # waiting for its (next) try
    SENDING = "sending"  # claimed by a worker, which is talking to the SMTP server
    SENT = "sent"
    FAILED = "failed"  # given up after MAIL_MAX_ATTEMPTS tries


class OutboxMessage(db.Model):
    """A mail to send, written in the transaction of the request that wants it sent (a request rolled back
    sends nothing) and sent by the mail worker (``core/mail.py``), never while a request waits.

    The text is dropped once the message is sent or given up: it may hold a sign-in link.

    A job (``kind`` set) is queued without its text: the worker has the registered composer of its kind make
    the message from ``payload`` first (``core/mail.py``), so the request does the same work whatever it is
    about.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    message: Mapped[str | None] = mapped_column(Text)  # the whole message as sent (RFC 5322)
    kind: Mapped[str | None] = mapped_column(String(32))  # a job's composer; None for a message queued whole
    payload: Mapped[dict | None] = mapped_column(JSON)  # what the composer needs; dropped once composed
    status: Mapped[MailStatus] = mapped_column(
        Enum(MailStatus, native_enum=False, create_constraint=False, length=16,
             values_callable=lambda members: [m.value for m in members]), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AttackModeChange(db.Model):
    """An operator turned attack mode on or off, for one tenant or (``tenant_id`` None) everywhere, and why.

    The latest change everywhere is the global switch; a tenant's own switch is its ``attack_mode`` column
    (read with the tenant's host, at no extra cost), and its changes are recorded here too. On PostgreSQL every
    host reads these rows, and the app adds them for no tenant or the current one, and never alters one.
    """

    __tablename__ = "attack_mode_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SpentChallenge(db.Model):
    """A proof-of-work challenge whose solution came with a commitment that was kept, remembered (by its
    signature) until the challenge expires, so that the same solution is refused by every worker afterwards."""

    __tablename__ = "spent_challenges"

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
