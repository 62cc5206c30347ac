"""Webhooks, the tenant's side: endpoints added and removed, events written to the outbox in the transaction of
the change they tell of (a change rolled back tells nothing), the delivery log and resending. The worker's side
is ``tenants/webhooks/delivery.py``. Plain functions that flush, never commit."""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select
from uuid6 import uuid7

from core import crypto, outbound
from core.extensions import db
from core.tenancy import current_tenant_id, reviewed_sql
from tenants import plans
from tenants.models import Commitment, Tenant, utcnow
from tenants.webhooks.models import EVENTS, DeliveryStatus, WebhookAttempt, WebhookEndpoint, WebhookMessage

#: Recent messages shown in an endpoint's delivery log.
LOG_LENGTH = 50


class InvalidEndpoint(ValueError):
    """An address that cannot be an endpoint; its text says why, for the admin who typed it."""


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, to the admin who added it


def check_url(url: str) -> str:
    """The address as kept, or ``InvalidEndpoint``. In production (``outbound.public_only``) only https to a
    name or public address; the connection itself goes through the fenced client, which also refuses a name
    that resolves to a private address."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - a port out of range or not a number raises here
    except ValueError as unreadable:
        raise InvalidEndpoint(_l("Enter a full address starting with https://.")) from unreadable
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidEndpoint(_l("Enter a full address starting with https://."))
    if parts.username or parts.password:
        raise InvalidEndpoint(_l("Leave the user name and password out of the address."))
    if outbound.public_only():
        if parts.scheme != "https":
            raise InvalidEndpoint(_l("Enter a full address starting with https://."))
        host = parts.hostname.rstrip(".").lower()
        try:
            private = not ipaddress.ip_address(host).is_global
        except ValueError:
            private = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
        if private:
            raise InvalidEndpoint(_l("This address is not on the public internet."))
    return url.strip()


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def add_endpoint(url: str, events: list[str], personal_data: bool, created_by: str | None) -> NewEndpoint:
    """Add an endpoint to the current tenant; its secret is returned here only (kept encrypted)."""
    unknown = set(events) - set(EVENTS)
    if unknown or not events:
        raise InvalidEndpoint(_l("Choose at least one event."))
    secret = new_secret()
    endpoint = WebhookEndpoint(url=check_url(url), events=[e for e in EVENTS if e in events],
                               secret=crypto.encrypt(secret), personal_data=personal_data, created_by=created_by)
    db.session.add(endpoint)
    db.session.flush()
    return NewEndpoint(endpoint, secret)


def endpoints() -> list[WebhookEndpoint]:
    """The current tenant's endpoints, oldest first."""
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)))


def find_endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    return db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)).one_or_none()


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint with its messages and their log."""
    db.session.delete(endpoint)
    db.session.flush()


def enable_endpoint(endpoint: WebhookEndpoint) -> None:
    """Turn an endpoint that was turned off back on; only events from now on are sent to it."""
    endpoint.enabled, endpoint.failures_in_a_row, endpoint.disabled_reason = True, 0, None
    db.session.flush()


def delivery_log(endpoint: WebhookEndpoint) -> list[tuple[WebhookMessage, list[WebhookAttempt]]]:
    """The endpoint's latest messages, newest first, each with its tries (oldest first)."""
    messages = list(db.session.scalars(
        select(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint.id)
        .order_by(WebhookMessage.created_at.desc(), WebhookMessage.id.desc()).limit(LOG_LENGTH)))
    attempts: dict[uuid.UUID, list[WebhookAttempt]] = {m.id: [] for m in messages}
    if messages:
        for attempt in db.session.scalars(select(WebhookAttempt).where(
                WebhookAttempt.message_id.in_(list(attempts))).order_by(WebhookAttempt.at)):
            attempts[attempt.message_id].append(attempt)
    return [(message, attempts[message.id]) for message in messages]


def find_message(endpoint: WebhookEndpoint, message_id: uuid.UUID) -> WebhookMessage | None:
    return db.session.scalars(select(WebhookMessage).where(
        WebhookMessage.endpoint_id == endpoint.id, WebhookMessage.id == message_id)).one_or_none()


def resend(message: WebhookMessage) -> None:
    """Send a message again, now, with the same ``webhook-id`` (a receiver that has it already may ignore it);
    its tries start afresh."""
    now = utcnow()
    message.status, message.next_attempt_at, message.leased_until = DeliveryStatus.PENDING, now, None
    message.attempts, message.retry_until = 0, now + _retry_window()
    db.session.flush()


def emit(event_type: str, data: dict, personal: dict | None = None) -> int:
    """Write ``event_type`` to the outbox of each of the current tenant's endpoints that asked for it, in the
    current transaction; ``personal`` (who the person is) only to endpoints allowed to receive personal data.
    Returns how many messages were written."""
    tenant_id = current_tenant_id()
    subscribed = [(uuid.UUID(str(endpoint_id)), bool(personal_data)) for endpoint_id, events, personal_data
                  in db.session.execute(_SUBSCRIBERS, {"tenant_id": tenant_id})
                  if event_type in (json.loads(events) if isinstance(events, str) else events)]
    if subscribed and not sending(tenant_id):
        return 0
    now = utcnow()
    retry_until = now + _retry_window()
    rows = [dict(tenant_id=tenant_id, id=uuid7(), endpoint_id=endpoint_id, event_id=f"msg_{uuid7().hex}",
                 event_type=event_type, payload={"type": event_type, "timestamp": now.isoformat(),
                                                 "data": data | ((personal or {}) if personal_data else {})},
                 status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, retry_until=retry_until,
                 created_at=now)
            for endpoint_id, personal_data in subscribed]
    if rows:
        db.session.execute(insert(WebhookMessage), rows)
    return len(rows)


# Reviewed: binds the current tenant itself (row-level security applies too). Every sign-up asks, and most tenants
# have no endpoint: a plain statement, without the ORM's work per statement, which made this question about a
# tenth of a sign-up's time (py-spy, bench.profile_signups).
_SUBSCRIBERS = reviewed_sql("SELECT id, events, personal_data FROM webhook_endpoints "
                            "WHERE tenant_id = :tenant_id AND enabled")


def sending(tenant_id: int) -> bool:
    """Whether the tenant's plan has webhooks now: while it has not, no message is kept, none already queued is
    sent (``delivery``), and its endpoints wait, as they are."""
    return plans.entitled(db.session.get(Tenant, tenant_id), "api")


def _retry_window() -> timedelta:
    return timedelta(hours=current_app.config["WEBHOOK_RETRY_HOURS"])


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def commitment_created(values: dict, email: str | None, name: str | None) -> None:
    """A commitment was made (``values``: its row as inserted): its facts, and who made it only to endpoints
    allowed personal data."""
    emit("commitment.created", *_created(values, email, name))


def _created(values: dict, email: str | None, name: str | None) -> tuple[dict, dict | None]:
    data = {"id": str(values["id"]), "gender": values["gender"].value, "country": values["country_code"],
            "unit_id": str(values["unit_id"]) if values.get("unit_id") else None,
            "department_id": str(values["department_id"]) if values.get("department_id") else None,
            "source": values["source"].value, "language": values["language"],
            "verified": values["verified"], "created_at": _when(values.get("created_at"))}
    personal = {"email": email, "name": name, "city": values.get("city"),
                "gender_description": values.get("gender_description")}
    return data, personal if email is not None else None


def commitment_created_with(values: dict, email: str | None, name: str | None, made: str) -> tuple[str, dict]:
    """What ``commitment_created`` does, as part of the one PostgreSQL statement that makes the commitment
    (``tenants/services/signups.py``): a CTE for its WITH that writes the messages only if its CTE ``made`` gives
    a row, asking which endpoints want the event in the same round trip, and its values; the statement then gives
    the ids written (``webhook_rows``) to ``unless_sending``. Message ids are the database's (random, not
    time-ordered: each endpoint's log orders by time first)."""
    data, personal = _created(values, email, name)
    now = utcnow()
    payload = {"type": "commitment.created", "timestamp": now.isoformat(), "data": data}
    return _MESSAGES_WITH.format(made=made), {
        "webhook_event": "commitment.created", "webhook_now": now, "webhook_retry_until": now + _retry_window(),
        "webhook_payload": json.dumps(payload), "webhook_personal": json.dumps(
            {**payload, "data": data | (personal or {})})}


# Reviewed: binds the current tenant itself (row-level security applies too); writes only what emit() writes.
_MESSAGES_WITH = """webhook_rows AS (
        INSERT INTO webhook_messages (tenant_id, id, endpoint_id, event_id, event_type, payload, status, attempts,
                                      next_attempt_at, retry_until, created_at)
        SELECT e.tenant_id, gen_random_uuid(), e.id, 'msg_' || replace(CAST(gen_random_uuid() AS text), '-', ''),
               CAST(:webhook_event AS text),
               CAST(CASE WHEN e.personal_data THEN :webhook_personal ELSE :webhook_payload END AS json), 'pending', 0,
               CAST(:webhook_now AS timestamptz), CAST(:webhook_retry_until AS timestamptz),
               CAST(:webhook_now AS timestamptz)
        FROM {made} CROSS JOIN webhook_endpoints e
        WHERE e.tenant_id = :tenant_id AND e.enabled
          AND CAST(e.events AS jsonb) @> jsonb_build_array(CAST(:webhook_event AS text))
        RETURNING id)"""


def unless_sending(message_ids: list[uuid.UUID] | None) -> None:
    """Take back the messages ``commitment_created_with`` wrote when the plan has no webhooks now (as ``emit``
    writes none). Asked only when some were written: a tenant without endpoints, most of them, reads no plan."""
    if message_ids and not sending(current_tenant_id()):
        db.session.execute(delete(WebhookMessage).where(WebhookMessage.id.in_(message_ids)))


def commitment_withdrawn(commitment: Commitment) -> None:
    """A commitment was withdrawn."""
    emit("commitment.withdrawn", {"id": str(commitment.id), "withdrawn_at": _when(commitment.withdrawn_at)})
