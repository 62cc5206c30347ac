"""Start a gift (a Stripe Checkout Session) and record what Stripe's events confirm.

A gift is recorded only from a confirmed event, never from the browser coming back: the success page says
thanks and nothing else. Each event names the tenant the gift came through in its metadata.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from flask_babel import force_locale
from flask_babel import gettext as _

from core import mail
from core.extensions import db
from tenants.giving import services as giving
from tenants.models import Tenant
from tenants.services import hosts

PURPOSE = "gift"
MINIMUM, MAXIMUM = 1, 100_000
#: Preset amounts per currency (whole units), the second pre-chosen; ``GIVING_PRESETS`` in the configuration
#: replaces them. Every currency here has cents (Stripe's smallest unit is a hundredth).
PRESETS = {
    "USD": (10, 25, 50, 100), "EUR": (10, 25, 50, 100), "GBP": (10, 25, 50, 100), "CHF": (10, 25, 50, 100),
    "CAD": (15, 30, 60, 120), "CNY": (50, 100, 200, 500),
}
#: The currency a page offers first, by its language.
CURRENCY_OF_LANGUAGE = {"fr": "EUR", "es": "EUR", "zh": "CNY"}
#: The languages Stripe Checkout speaks of ours; it picks from the browser for the others (Arabic).
CHECKOUT_LOCALES = {"en", "fr", "es", "zh", "ru"}


def currencies() -> tuple[str, ...]:
    return tuple(current_app.config.get("GIVING_PRESETS") or PRESETS)


def presets(currency: str) -> tuple[int, ...]:
    return tuple((current_app.config.get("GIVING_PRESETS") or PRESETS)[currency])


def currency_for(asked: str | None, language: str) -> str:
    """The currency asked for when we offer it, else the language's, else the first."""
    offered = currencies()
    asked = (asked or "").upper()
    if asked in offered:
        return asked
    return CURRENCY_OF_LANGUAGE.get(language) if CURRENCY_OF_LANGUAGE.get(language) in offered else offered[0]


def start_checkout(client, tenant_id: int, amount: int, currency: str, monthly: bool, language: str,
                   success_url: str, cancel_url: str) -> str:
    """Open a Checkout Session for one gift and return the address to send the giver to."""
    # The site's address travels with the gift, so that its receipt links back to the site it came through.
    metadata = {"purpose": PURPOSE, "tenant_id": str(tenant_id), "language": language, "site": request.host_url}
    price = {"currency": currency.lower(), "unit_amount": amount,
             "product_data": {"name": _("Gift to UN Women")}}
    params = {
        "line_items": [{"price_data": price, "quantity": 1}], "metadata": metadata,
        "success_url": success_url, "cancel_url": cancel_url,
        "locale": language if language in CHECKOUT_LOCALES else "auto",
    }
    if monthly:
        price["recurring"] = {"interval": "month"}
        params.update(mode="subscription", subscription_data={"metadata": metadata})
    else:
        params.update(mode="payment", submit_type="donate", payment_intent_data={"metadata": metadata})
    return client.v1.checkout.sessions.create(params=params).url


def _metadata_of_invoice(invoice) -> dict:
    """The metadata of the subscription an invoice bills (where the API version puts it)."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or invoice.get("subscription_details") or {}
    return details.get("metadata") or {}


def handles(event) -> bool:
    """Whether an event is about a gift (this module's to handle)."""
    obj = event["data"]["object"]
    if event["type"] == "checkout.session.completed":
        return (obj.get("metadata") or {}).get("purpose") == PURPOSE
    if event["type"] == "invoice.paid":
        return _metadata_of_invoice(obj).get("purpose") == PURPOSE
    return False


def on_event(event) -> bool:
    """Record the gift a confirmed event tells of, with a receipt mailed to the giver; False when it tells of
    nothing new (a replay, an unpaid session, a monthly gift's first invoice, which its session recorded)."""
    obj = event["data"]["object"]
    if event["type"] == "checkout.session.completed":
        if obj.get("payment_status") != "paid":
            return False
        metadata, reference, amount = obj["metadata"], obj["id"], obj["amount_total"]
        email = (obj.get("customer_details") or {}).get("email") or obj.get("customer_email")
        monthly = obj.get("mode") == "subscription"
    else:  # invoice.paid of a monthly gift
        if obj.get("billing_reason") != "subscription_cycle":
            return False
        metadata, reference, amount = _metadata_of_invoice(obj), obj["id"], obj["amount_paid"]
        email, monthly = obj.get("customer_email"), True
    if not email or not amount:
        return False
    given_at = datetime.fromtimestamp(event["created"], timezone.utc)
    tenant = db.session.get(Tenant, int(metadata["tenant_id"]))
    if tenant is None:
        return False
    with hosts.on_site(tenant, metadata.get("site")):
        if not giving.record_gift(reference, amount, obj["currency"], monthly, email, given_at):
            return False
        subscription = obj.get("subscription")
        stop = (url_for("giving.stop", stop_token=stop_token(tenant.id, subscription), _external=True)
                if subscription else None)
        with force_locale(metadata.get("language") or "en"):
            body = render_template("giving/receipt_mail.txt", amount=giving.money(amount, obj["currency"]),
                                   monthly=monthly, given_at=given_at, reference=reference, stop=stop)
            mail.queue(email, _("Your gift to UN Women"), body)
    return True


def _stop_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="giving.stop")


def stop_token(tenant_id: int, subscription: str) -> str:
    """The token of a receipt's link that stops a monthly gift made through a tenant's pages (it never expires:
    every receipt keeps it)."""
    return _stop_serializer().dumps([tenant_id, subscription])


def stoppable(tenant_id: int, token: str) -> str | None:
    """The Stripe subscription a stop link names, when it is one of this tenant's gifts; None when the link was
    altered or is another site's."""
    try:
        named, subscription = _stop_serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return subscription if named == tenant_id else None


def stop(client, subscription: str) -> None:
    """Cancel a monthly gift at once; stopping one that is stopped already is no error."""
    found = client.v1.subscriptions.retrieve(subscription)
    if found.status != "canceled":
        client.v1.subscriptions.cancel(subscription)
