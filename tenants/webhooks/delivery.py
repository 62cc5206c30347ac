"""Webhooks, the worker's side: deliver what is due, signed the Standard Webhooks way (``standardwebhooks``).

At least once, never lost: a message is written in the transaction of its change, and the worker claims it with a
lease (``WEBHOOK_LEASE_SECONDS``, started afresh just before the message is sent) before sending; on PostgreSQL
the claim is ``SELECT ... FOR UPDATE SKIP LOCKED``, so two workers never take the same message. A worker killed after sending but before noting the answer
leaves the lease to run out: the message is sent again, with the same ``webhook-id``, which the receiver uses to
ignore what it has had already (as Standard Webhooks intends). So each event is delivered to a receiver that
dedupes exactly once; one that does not may see a repeat only after such a crash.

A failed try is repeated after ``WEBHOOK_RETRY_SECONDS``, doubled at each try (at most an hour apart), until
``WEBHOOK_RETRY_HOURS`` after the event; then it is given up. An answer 410 Gone, or ``WEBHOOK_MAX_FAILURES``
failures in a row, turn the endpoint off and mail the tenant's admins. While the tenant's plan lacks webhooks
(a downgrade, a lapsed payment), nothing of it is sent: its queued messages wait for the plan to have them again.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta

import requests
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from standardwebhooks.webhooks import Webhook

from core import crypto, mail, outbound
from core.extensions import db
from core.tenancy import current_tenant_id, tenant_context
from tenants.models import Member, Role, Tenant, utcnow
from tenants.services import hosts
from tenants.webhooks import services
from tenants.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookEndpoint, WebhookMessage

#: Messages one pass claims at most for one tenant.
BATCH = 20
MAX_RETRY_DELAY = timedelta(hours=1)


def deliver_due(stop: threading.Event | None = None) -> int:
    """Deliver every due message of every tenant (until ``stop`` is set); returns how many were delivered.
    Commits after each step. Each tenant's messages are read in its own context (row-level security)."""
    tenant_ids = list(db.session.scalars(select(Tenant.id)))
    db.session.rollback()
    delivered = 0
    for tenant_id in tenant_ids:
        if stop is not None and stop.is_set():
            break
        with tenant_context(tenant_id):
            claimed = _claim(utcnow())
        if not claimed:
            continue
        # On the tenant's site: the mail to its admins, should an endpoint be turned off, links to its portal.
        with hosts.on_site(db.session.get(Tenant, tenant_id)):
            for message_id, lease in claimed:
                if stop is not None and stop.is_set():
                    break  # the rest of the batch is sent once its lease runs out
                delivered += _deliver(message_id, lease)
    return delivered


def _claimable(now: datetime):
    return or_(and_(WebhookMessage.status == DeliveryStatus.PENDING, WebhookMessage.next_attempt_at <= now),
               and_(WebhookMessage.status == DeliveryStatus.SENDING, WebhookMessage.leased_until < now))


def _claim(now: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """Lease this tenant's due messages of enabled endpoints to this worker, committed before anything is sent;
    returns each message's id and lease."""
    due = db.session.scalars(
        select(WebhookMessage.id).join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_id)
        .where(WebhookEndpoint.enabled.is_(True), _claimable(now))
        .order_by(WebhookMessage.created_at).limit(BATCH)
        .with_for_update(skip_locked=True, of=WebhookMessage)).all()
    if due and not services.sending(current_tenant_id()):
        due = []  # queued before the plan lost its webhooks: they wait for it to have them again, as the endpoints do
    lease = now + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    claimed = []
    for message_id in due:  # the condition again: SQLite has no row locks, only its one write lock
        result = db.session.execute(
            update(WebhookMessage).where(WebhookMessage.id == message_id, _claimable(now))
            .values(status=DeliveryStatus.SENDING, leased_until=lease, attempts=WebhookMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append((message_id, lease))
    db.session.commit()
    return claimed


def sign(secret: str, event_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The headers of a signed message."""
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(event_id, at, body), "content-type": "application/json"}


def _renew(message_id: uuid.UUID, lease: datetime) -> bool:
    """Start the message's lease afresh just before sending it (the batch's earlier messages took time), if it
    is still this worker's; False when it ran out and another worker took the message."""
    renewed = db.session.execute(
        update(WebhookMessage).where(WebhookMessage.id == message_id, WebhookMessage.status == DeliveryStatus.SENDING,
                                     WebhookMessage.leased_until == lease)
        .values(leased_until=utcnow() + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"]))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return renewed.rowcount == 1


def _deliver(message_id: uuid.UUID, lease: datetime) -> int:
    """Send one claimed message and note the answer; 1 when it was delivered."""
    if not _renew(message_id, lease):
        return 0
    message = db.session.scalars(select(WebhookMessage).where(WebhookMessage.id == message_id)).one()
    endpoint = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id == message.endpoint_id)).one()
    if not endpoint.enabled:  # turned off by an earlier message of this pass: this one is given up with it
        db.session.rollback()
        return 0
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
    status_code, error = None, None
    try:
        with outbound.GuardedSession() as session:
            answer = session.post(endpoint.url, data=body, allow_redirects=False,
                                  headers=sign(crypto.decrypt(endpoint.secret), message.event_id, body, utcnow()))
        status_code = answer.status_code
    except requests.RequestException as failure:
        error = type(failure).__name__
        current_app.logger.warning("webhook %s to %s not delivered: %s", message.event_id, endpoint.url, failure)
    now = utcnow()
    db.session.add(WebhookAttempt(message_id=message.id, at=now, status_code=status_code, error=error))
    message.last_status_code, message.leased_until = status_code, None
    if status_code is not None and 200 <= status_code < 300:
        message.status, message.delivered_at = DeliveryStatus.DELIVERED, now
        endpoint.failures_in_a_row = 0
        db.session.commit()
        return 1
    endpoint.failures_in_a_row += 1
    config = current_app.config
    if status_code == 410 or endpoint.failures_in_a_row >= config["WEBHOOK_MAX_FAILURES"]:
        _turn_off(endpoint, "gone" if status_code == 410 else "failures")
    elif now >= _aware(message.retry_until):
        message.status = DeliveryStatus.FAILED
    else:
        delay = timedelta(seconds=config["WEBHOOK_RETRY_SECONDS"] * 2 ** (message.attempts - 1))
        message.status, message.next_attempt_at = DeliveryStatus.PENDING, now + min(delay, MAX_RETRY_DELAY)
    db.session.commit()
    return 0


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive UTC back."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _turn_off(endpoint: WebhookEndpoint, reason: str) -> None:
    """Turn the endpoint off, give up its waiting messages and mail the tenant's admins."""
    endpoint.enabled, endpoint.disabled_reason = False, reason
    db.session.execute(update(WebhookMessage).where(
        WebhookMessage.endpoint_id == endpoint.id,
        WebhookMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
        .values(status=DeliveryStatus.FAILED, leased_until=None).execution_options(synchronize_session=False))
    tenant = db.session.get(Tenant, endpoint.tenant_id)
    admins = db.session.scalars(select(Member.email).where(Member.role == Role.ADMIN)).all()
    with force_locale(tenant.default_language):
        subject = _("A webhook endpoint of %(name)s was turned off", name=tenant.name)
        body = render_template("tenants/webhooks/turned_off_mail.txt", tenant=tenant, endpoint=endpoint,
                               gone=reason == "gone", failures=endpoint.failures_in_a_row)
    for address in admins:
        mail.queue(address, subject, body, sender_name=tenant.name)
