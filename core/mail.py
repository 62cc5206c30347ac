"""Outgoing mail through an outbox: a request queues its messages in its own transaction (``queue``), and the
mail worker sends them over SMTP (stdlib ``smtplib``) outside any request (``deliver_due``).

So no request waits for an SMTP server (a slow one would tell, by the time a request takes, whether an
address is known, and would hold the server's workers), and a request that is rolled back sends nothing.
The sender is the worker (``core/worker.py``: ``flask worker``, a process of its own), whose task ``deliver_due``
is. A failed send is tried again
after ``MAIL_RETRY_SECONDS``, doubled at each try, and given up after ``MAIL_MAX_ATTEMPTS`` tries.

A message whose text depends on what the request must not reveal (is this address a member's?) is queued
as a job instead (``queue_job``): a kind and a payload, the same row for any address. The worker has the
composer registered for that kind (``register_composer``, called by the package that owns the kind in its
``init_app``) make the message, or nothing, before sending it.

With ``MAIL_SERVER`` empty (the default) the worker writes each message to the app log instead, so the
embedded demo works without an SMTP server: the links in the "mail" are there to copy.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import JSON, DateTime, and_, bindparam, or_, select, update

from core.extensions import db
from core.models import MailStatus, OutboxMessage
from core.tenancy import reviewed_sql

TIMEOUT_SECONDS = 10
#: Longest wait between two tries of one message.
MAX_RETRY_DELAY = timedelta(hours=1)
#: A message claimed this long ago is taken to belong to a worker that died while sending: tried again.
CLAIM_EXPIRY = timedelta(minutes=10)
#: Messages one pass claims at most, before it looks again for what is due.
BATCH = 50


#: A job's composer: from its payload, the message to send, or None when there is nothing to send.
Composer = Callable[[dict], EmailMessage | None]
_composers: dict[str, Composer] = {}


class MailNotSent(RuntimeError):
    """The SMTP server could not be reached or refused the message."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def build(to: str, subject: str, body: str, sender_name: str | None = None) -> EmailMessage:
    """A plain-text message from ``MAIL_SENDER``, shown as ``sender_name`` (a tenant's name) when given."""
    default_name, address = parseaddr(current_app.config["MAIL_SENDER"])
    message = EmailMessage()
    message["From"] = formataddr((sender_name or default_name, address))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
    # Auto-Submitted tells mail servers not to send out-of-office answers to a no-reply address.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def queue(to: str, subject: str, body: str, sender_name: str | None = None) -> OutboxMessage:
    """Queue one plain-text message in the current transaction; the worker sends it once that commits.

    Flushes, never commits, and never talks to the SMTP server: it costs a request one insert.
    """
    now = _now()
    entry = OutboxMessage(recipient=to, message=build(to, subject, body, sender_name).as_string(),
                          status=MailStatus.QUEUED, attempts=0, next_attempt_at=now, created_at=now)
    db.session.add(entry)
    db.session.flush()
    return entry


def register_composer(kind: str, composer: Composer) -> None:
    """Let the worker make the messages of jobs of this kind (once per kind, at app set-up)."""
    if _composers.get(kind, composer) is not composer:
        raise ValueError(f"a mail composer for {kind!r} is registered already")
    _composers[kind] = composer


def queue_job(kind: str, recipient: str, payload: dict) -> None:
    """Queue a message the worker composes later from ``payload`` (a JSON object), in the current transaction.

    Costs a request the same one insert as ``queue``, whatever the composer will find; the composer may
    decide there is nothing to send (``recipient`` is then forgotten with the job).
    """
    if kind not in _composers:
        raise ValueError(f"no mail composer for {kind!r}")
    # A plain statement rather than an object added and flushed, or the ORM's insert: every web sign-up queues one
    # (a confirmation), and the unit of work, then the ORM's checks of each statement, cost it more CPU than the
    # insert itself (some 170 against 90 us). Nobody reads the row back in the request.
    db.session.execute(_QUEUE_JOB, dict(recipient=recipient, kind=kind, payload=payload,
                                        status=MailStatus.QUEUED.value, now=_now()))


# Reviewed: the outbox has no tenant.
_QUEUE_JOB = reviewed_sql(
    "INSERT INTO mail_outbox (recipient, kind, payload, status, attempts, next_attempt_at, created_at) "
    "VALUES (:recipient, :kind, :payload, :status, 0, :now, :now)"
).bindparams(bindparam("payload", type_=JSON), bindparam("now", type_=DateTime(timezone=True)))


def _compose(entry: OutboxMessage) -> bool:
    """Make a claimed job's message and keep it (a later try sends the same one); False, and the job is
    deleted, when its composer has nothing to send."""
    message = _composers[entry.kind](entry.payload)
    if message is None:
        db.session.delete(entry)
        return False
    entry.recipient, entry.message, entry.payload = message["To"], message.as_string(), None
    return True


def deliver(message: EmailMessage) -> None:
    """Hand one message to the SMTP server (or write it to the log without ``MAIL_SERVER``).

    Raises ``MailNotSent`` when the server cannot be reached or refuses it.
    """
    config = current_app.config
    if not config["MAIL_SERVER"]:
        current_app.logger.warning("MAIL_SERVER is empty: this mail was not sent\n%s", message.as_string())
        return
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=TIMEOUT_SECONDS) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailNotSent(str(error) or type(error).__name__) from error


def deliver_due(now: datetime | None = None, stop: threading.Event | None = None) -> int:
    """Send every queued message that is due (until ``stop`` is set); returns how many were sent. Commits
    after each step.

    Each message is claimed by one atomic ``UPDATE ... WHERE status = 'queued' ...`` before it is sent, so
    two workers never send the same message (on PostgreSQL the second waits for the first's claim, then
    finds the row taken). A worker that died while sending leaves a claim that expires after ``CLAIM_EXPIRY``.
    """
    fixed_time = now is not None  # tests pass the time; a worker reads the clock at each claim
    now = now or _now()
    # Looking is read-only, so an idle worker takes no write lock (SQLite has one for the whole database).
    due = db.session.scalars(select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.id)
                             .limit(BATCH)).all()
    db.session.rollback()  # ends the read transaction
    sent = 0
    for message_id in due:
        if stop is not None and stop.is_set():
            break
        if not fixed_time:  # a slow pass must not claim with a time that has already run out
            now = _now()
        claimed = db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, _claimable(now))
            .values(status=MailStatus.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1))
        db.session.commit()
        if claimed.rowcount != 1:
            continue  # another worker has it
        entry = db.session.get(OutboxMessage, message_id)
        if entry.message is None:  # a job: its message is made once, and kept for any later try
            try:
                composed = _compose(entry)
                db.session.commit()  # what the composer wrote (a sign-in link) stands before its mail leaves
            except Exception as error:  # noqa: BLE001 - a composer's bug must not stop the worker: tried again, then given up
                db.session.rollback()
                current_app.logger.exception("mail job %s (%s) could not be composed", message_id, entry.kind)
                _try_later(db.session.get(OutboxMessage, message_id), f"could not be composed: {error!r}", now)
                db.session.commit()
                continue
            if not composed:
                continue
        try:
            deliver(message_from_string(entry.message, policy=policy.default))
        except MailNotSent as error:
            _try_later(entry, str(error), now)
        except Exception as error:  # noqa: BLE001 - anything else must not stop the worker: tried again, then given up
            current_app.logger.exception("mail %s could not be sent", message_id)
            _try_later(entry, repr(error), now)
        else:
            entry.status, entry.sent_at, entry.message, entry.last_error = MailStatus.SENT, _now(), None, None
            sent += 1
        db.session.commit()
    return sent


def _claimable(now: datetime):
    """Due: queued and its time has come, or claimed by a worker that has not finished it in CLAIM_EXPIRY."""
    return or_(and_(OutboxMessage.status == MailStatus.QUEUED, OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == MailStatus.SENDING, OutboxMessage.claimed_at < now - CLAIM_EXPIRY))


def _try_later(entry: OutboxMessage, error: str, now: datetime) -> None:
    """After a failed try: the next one after a doubling delay, or none after the last allowed try."""
    config = current_app.config
    entry.last_error = error[:2000]
    if entry.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        entry.status, entry.message = MailStatus.FAILED, None
        current_app.logger.error("mail %s to %s given up after %s tries: %s", entry.id, entry.recipient,
                                 entry.attempts, error)
        return
    delay = timedelta(seconds=config["MAIL_RETRY_SECONDS"] * 2 ** (entry.attempts - 1))
    entry.status, entry.next_attempt_at = MailStatus.QUEUED, now + min(delay, MAX_RETRY_DELAY)
    current_app.logger.warning("mail %s to %s not sent (try %s), trying again at %s: %s", entry.id,
                               entry.recipient, entry.attempts, entry.next_attempt_at.isoformat(), error)
