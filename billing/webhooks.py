"""Stripe's webhooks: received on the global host, handled by the worker.

``receive`` checks the signature with the stripe library (the webhook secret, the body as sent, a timestamp at
most five minutes old) and keeps the event by its id, once however often Stripe sends it; the request answers at
once. The worker's task, ``handle_due``, then dispatches each event, oldest first, to the package that owns its
purpose (``dispatch``); a failure is tried again later. Billing's own handler reads the subscription back from
Stripe instead of trusting the event's copy, so whatever order events arrive in, the plan ends as Stripe has it.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import stripe
from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from billing import services, stripe_api
from billing.giving import services as gifts
from billing.models import StripeEvent
from core.extensions import db
from tenants.models import utcnow

#: Events a handler reads; what else arrives is kept as handled and otherwise ignored.
SUBSCRIPTION_EVENTS = frozenset({
    "checkout.session.completed", "customer.subscription.created", "customer.subscription.updated",
    "customer.subscription.deleted", "invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"})
BATCH = 50
#: Tries after which an event is given up (logged, kept as handled with its last error).
MAX_ATTEMPTS = 12
CLAIM_EXPIRY = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=1)
RETRY_SECONDS = 30


class BadSignature(ValueError):
    """Not a genuine, recent event from Stripe."""


def receive(payload: bytes, signature: str | None) -> bool:
    """Check an event's signature and keep it for the worker; False when it was received before."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(payload)
        event_id, kind, created = event["id"], event["type"], _created(event)
        if not isinstance(event_id, str) or not isinstance(kind, str):
            raise ValueError("not an event")
    except (stripe.SignatureVerificationError, ValueError, TypeError, KeyError, OverflowError, OSError) as error:
        raise BadSignature(str(error)) from error
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    kept = db.session.execute(insert(StripeEvent).values(
        id=event_id[:255], type=kind[:100], payload=event, attempts=0, received_at=utcnow(), created=created,
    ).on_conflict_do_nothing(index_elements=["id"]))
    return kept.rowcount == 1


# --- Dispatching ----------------------------------------------------------------------------------------------------

def _subscription_id(thing: dict) -> str | None:
    """The subscription an event's object is about: itself, or the one a Checkout or an invoice names."""
    if thing.get("object") == "subscription":
        return thing["id"]
    named = thing.get("subscription") or (
        ((thing.get("parent") or {}).get("subscription_details") or {}).get("subscription"))
    return named if isinstance(named, str) else (named or {}).get("id")


def dispatch(event: dict) -> None:
    """Hand an event to the package that owns its purpose, as marked in the metadata of what it is about (a
    subscription's, read back from Stripe, or the object's own). This is the one place where each purpose's
    handler is named: a gift's (``billing.giving``), and billing's own ``subscription``."""
    if event["type"] not in SUBSCRIPTION_EVENTS:
        return
    if gifts.handles(event):
        gifts.on_event(event)
        return
    thing = event["data"]["object"]
    subscription_id = _subscription_id(thing)
    if subscription_id is None:
        return
    # Read back: the state now, whatever the order the events come in.
    try:
        subscription = stripe_api.client().v1.subscriptions.retrieve(subscription_id).to_dict()
    except stripe.InvalidRequestError as error:
        raise services.NotOurs(f"Stripe knows no subscription {subscription_id}") from error
    purpose = (subscription.get("metadata") or {}).get("purpose") or (thing.get("metadata") or {}).get("purpose")
    if purpose == services.PURPOSE:
        services.sync(services.tenant_of(subscription), subscription, _created(event))
    else:
        current_app.logger.info("Stripe event %s (%s) is for no purpose of billing's: %r", event["id"],
                                event["type"], purpose)


def _created(event: dict) -> datetime:
    """When Stripe made the event (now, if it does not say)."""
    return datetime.fromtimestamp(int(event["created"]), timezone.utc) if event.get("created") else utcnow()


# --- The worker's task ----------------------------------------------------------------------------------------------

def _due(now: datetime):
    return and_(StripeEvent.handled_at.is_(None),
                or_(StripeEvent.next_attempt_at.is_(None), StripeEvent.next_attempt_at <= now),
                or_(StripeEvent.claimed_at.is_(None), StripeEvent.claimed_at < now - CLAIM_EXPIRY))


def handle_due(now: datetime | None = None, stop: threading.Event | None = None) -> int:
    """Handle every event due, oldest first (until ``stop`` is set), each claimed by one atomic update so two
    workers never handle the same one; returns how many were handled. Commits after each."""
    now = now or utcnow()
    due = db.session.scalars(select(StripeEvent.id).where(_due(now)).order_by(StripeEvent.created, StripeEvent.id)
                             .limit(BATCH)).all()
    db.session.rollback()
    handled = 0
    for event_id in due:
        if stop is not None and stop.is_set():
            break
        claimed = db.session.execute(update(StripeEvent).where(StripeEvent.id == event_id, _due(now)).values(
            claimed_at=now, attempts=StripeEvent.attempts + 1))
        db.session.commit()
        if claimed.rowcount != 1:
            continue
        event = db.session.get(StripeEvent, event_id)
        try:
            dispatch(event.payload)
        except services.NotOurs as error:
            db.session.rollback()
            current_app.logger.warning("Stripe event %s ignored: %s", event_id, error)
            _settle(event_id, now, str(error))
        except Exception as error:  # noqa: BLE001 - Stripe away, a bug: tried again later, the others go on
            db.session.rollback()
            current_app.logger.exception("Stripe event %s could not be handled", event_id)
            _try_later(event_id, now, repr(error))
        else:
            _settle(event_id, now, None)
            handled += 1
        db.session.commit()
    return handled


def _settle(event_id: str, now: datetime, note: str | None) -> None:
    event = db.session.get(StripeEvent, event_id)
    event.handled_at, event.payload, event.last_error, event.claimed_at = now, None, note and note[:2000], None


def _try_later(event_id: str, now: datetime, error: str) -> None:
    event = db.session.get(StripeEvent, event_id)
    if event.attempts >= MAX_ATTEMPTS:
        current_app.logger.error("Stripe event %s given up after %s tries: %s", event_id, event.attempts, error)
        _settle(event_id, now, error)
        return
    delay = min(timedelta(seconds=RETRY_SECONDS * 2 ** (event.attempts - 1)), MAX_RETRY_DELAY)
    event.last_error, event.next_attempt_at, event.claimed_at = error[:2000], now + delay, None
