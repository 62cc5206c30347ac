"""Subscribing through Stripe, and making a tenant's plan what its subscription says. Plain functions that flush,
never commit.

A plan becomes active only when Stripe says its subscription is paid for, by a webhook (``billing/webhooks.py``),
never on the return from Checkout; each change is read back from Stripe (``sync``), so events that arrive late or
out of order change nothing wrongly. A failed payment mails the tenant's admins and starts the grace period
(``tenants.plans``); a paid invoice ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import stripe
from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from billing import stripe_api
from billing.models import BillingAccount
from core import mail
from core.extensions import db
from core.tenancy import tenant_context
from tenants import plans
from tenants.models import Member, Role, Tenant, utcnow
from tenants.services import hosts

#: Checkout sessions, subscriptions and customers we make are marked with what they are for, so the webhook
#: dispatcher sends each event to the package that owns it.
PURPOSE = "subscription"
#: Subscription statuses after which a subscription is over for good.
OVER = frozenset({"canceled", "incomplete_expired"})


class Refused(RuntimeError):
    """Stripe could not do it (unreachable, or it refused); the message (translated) says what to do."""


def _stripe_call(call: Callable):
    try:
        return call()
    except stripe.StripeError as error:
        current_app.logger.warning("Stripe refused or could not be reached: %s", error)
        raise Refused(_("Stripe could not be reached or refused the request. Nothing was changed; please try again "
                        "in a few minutes.")) from error


def account() -> BillingAccount | None:
    """The current tenant's Stripe customer, if it has one."""
    return db.session.scalars(select(BillingAccount)).first()


def buyable_plans() -> list[str]:
    """The paid plans that can be bought online: those with a Stripe price."""
    prices = current_app.config["STRIPE_PRICES"]
    return [plan for plan in plans.plans() if plan in prices]


def _customer(tenant: Tenant, email: str) -> BillingAccount:
    found = account()
    if found is None:
        customer = _stripe_call(lambda: stripe_api.client().v1.customers.create(params={
            "name": tenant.name, "email": email,
            "metadata": {"tenant_id": str(tenant.id), "tenant": tenant.slug, "purpose": PURPOSE}}))
        found = BillingAccount(customer_id=customer.id)
        db.session.add(found)
        db.session.flush()
    return found


def start_checkout(tenant: Tenant, plan: str, email: str, return_url: str) -> str:
    """Open Stripe Checkout (subscription mode) for ``plan``; returns its address. The plan changes only once
    Stripe's webhook says the subscription is paid for."""
    price = current_app.config["STRIPE_PRICES"].get(plan)
    if price is None:
        raise Refused(_("This plan cannot be bought online. Please write to the HeForShe team."))
    found = _customer(tenant, email)
    marks = {"purpose": PURPOSE, "tenant_id": str(tenant.id), "plan": plan}
    session = _stripe_call(lambda: stripe_api.client().v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": found.customer_id, "client_reference_id": str(tenant.id),
        "line_items": [{"price": price, "quantity": 1}], "success_url": return_url, "cancel_url": return_url,
        "metadata": marks, "subscription_data": {"metadata": marks}}))
    found.checkout_session_id, found.checkout_plan, found.checkout_started_at = session.id, plan, utcnow()
    db.session.flush()
    return session.url


def checkout_waiting(found: BillingAccount | None) -> str | None:
    """Whether a Checkout started here is still to be confirmed: ``open`` (not paid yet) or ``processing`` (paid
    at Stripe, its webhook not handled yet); None when there is none (or it expired)."""
    if found is None or found.checkout_session_id is None:
        return None
    try:
        session = stripe_api.client().v1.checkout.sessions.retrieve(found.checkout_session_id)
    except stripe.StripeError as error:
        current_app.logger.warning("Stripe could not say how a Checkout went: %s", error)
        return "processing"
    if session.status == "complete":
        return "processing"
    if session.status == "open":
        return "open"
    found.checkout_session_id = None  # expired: nothing is waiting
    db.session.flush()
    return None


def portal_url(return_url: str) -> str:
    """Stripe's customer portal for the current tenant (payment methods, invoices, plan, cancelling)."""
    found = account()
    if found is None:
        raise Refused(_("There is nothing to manage yet: choose a plan first."))
    session = _stripe_call(lambda: stripe_api.client().v1.billing_portal.sessions.create(params={
        "customer": found.customer_id, "return_url": return_url}))
    return session.url


def set_cancel_at_period_end(tenant: Tenant, cancel: bool) -> None:
    """End the subscription when the period paid for ends (or no longer); nothing is lost either way."""
    found = account()
    if found is None or found.subscription_id is None:
        raise Refused(_("There is no subscription to change."))
    subscription = _stripe_call(lambda: stripe_api.client().v1.subscriptions.update(
        found.subscription_id, params={"cancel_at_period_end": cancel}))
    sync(tenant, subscription.to_dict(), utcnow())


@dataclass(frozen=True)
class Invoice:
    """An invoice as the billing page lists it."""

    number: str | None
    at: datetime
    amount: int  # in the currency's smallest unit
    currency: str
    status: str | None
    url: str | None


def invoices() -> tuple[Invoice | None, list[Invoice]] | None:
    """The next invoice (if a subscription runs) and the past ones, newest first; None when Stripe cannot say now."""
    found = account()
    if found is None:
        return None, []
    client = stripe_api.client()
    try:
        past = [_invoice(invoice.to_dict()) for invoice in client.v1.invoices.list(params={
            "customer": found.customer_id, "limit": 24}).data]
        upcoming = None
        if found.subscription_id and plans.plan_of(db.session.get(Tenant, found.tenant_id)).status not in OVER:
            upcoming = _invoice(client.v1.invoices.create_preview(params={
                "customer": found.customer_id, "subscription": found.subscription_id}).to_dict())
    except stripe.StripeError as error:
        current_app.logger.warning("Stripe could not list the invoices: %s", error)
        return None
    return upcoming, past


def _invoice(invoice: dict) -> Invoice:
    moment = invoice.get("next_payment_attempt") or invoice.get("period_end") or invoice["created"]
    return Invoice(invoice.get("number"), datetime.fromtimestamp(moment, timezone.utc), invoice.get("total") or 0,
                   invoice.get("currency") or "usd", invoice.get("status"), invoice.get("hosted_invoice_url"))


# --- What Stripe says ---------------------------------------------------------------------------------------------

class NotOurs(ValueError):
    """An event about something that is no tenant's subscription here (another site's, or mismatched marks)."""


def tenant_of(subscription: dict) -> Tenant:
    """The tenant a subscription's customer names in its metadata, checked against the customer we keep for it."""
    customer = subscription["customer"]
    customer = customer if isinstance(customer, dict) else stripe_api.client().v1.customers.retrieve(
        customer).to_dict()
    try:
        tenant = db.session.get(Tenant, int(customer.get("metadata", {}).get("tenant_id", "")))
    except ValueError:
        tenant = None
    if tenant is None:
        raise NotOurs(f"customer {customer['id']} names no tenant of this site")
    with tenant_context(tenant):
        found = account()
        if found is None or found.customer_id != customer["id"]:
            raise NotOurs(f"customer {customer['id']} is not the one kept for tenant {tenant.id}")
    return tenant


def _plan(subscription: dict) -> str:
    """The plan a subscription pays for, by its price (each subscription item names its price; one made from a
    legacy plan names it as its plan: the same id)."""
    item = subscription["items"]["data"][0]
    price = (item.get("price") or item["plan"])["id"]
    for plan, configured in current_app.config["STRIPE_PRICES"].items():
        if configured == price:
            return plan
    raise NotOurs(f"price {price} is no plan of this site")


def _period_end(subscription: dict) -> datetime | None:
    item = subscription["items"]["data"][0]
    end = item.get("current_period_end") or subscription.get("current_period_end")
    return datetime.fromtimestamp(end, timezone.utc) if end else None


def sync(tenant: Tenant, subscription: dict, seen_at: datetime) -> None:
    """Make the tenant's plan what ``subscription`` (as just read from Stripe) says now. A subscription that is over
    and is not the tenant's current one changes nothing (a late event of an earlier subscription)."""
    with tenant_context(tenant):
        found = account()
        if found.subscription_id not in (None, subscription["id"]) and subscription["status"] in OVER:
            return
        before = plans.plan_of(tenant)
        was = (before.plan, before.status, before.cancel_at_period_end)
        row, newly_past_due = plans.record_subscription(tenant, plans.Subscription(
            _plan(subscription), subscription["status"], _period_end(subscription),
            bool(subscription.get("cancel_at_period_end"))), seen_at)
        found.subscription_id = subscription["id"]
        if subscription["status"] in plans.PAID | OVER:
            found.checkout_session_id = None  # the Checkout, if any, is settled
        db.session.flush()
        now = (row.plan, row.status, row.cancel_at_period_end)
        if now != was:
            record("billing.plan_change", plans.plan_name(row.plan), plan=row.plan, status=row.status,
                   cancel_at_period_end=row.cancel_at_period_end, previous_plan=was[0], previous_status=was[1])
        if newly_past_due:
            _mail_admins(tenant, row)


def record(action: str, target: str, **details) -> None:
    """Note a change in the tenant's audit log (the portal's, handed over by the app factory)."""
    current_app.extensions["billing"]["record_audit"](action, target, **details)


def _mail_admins(tenant: Tenant, row) -> None:
    """Tell every admin of the tenant, in its language, that a payment failed and what happens when."""
    admins = db.session.scalars(select(Member.email).where(Member.role == Role.ADMIN)).all()
    # On the tenant's own address (the worker has no request of its own), so that the mail links to its portal.
    with hosts.on_site(tenant), force_locale(tenant.default_language):
        subject = _("A payment for %(name)s's HeForShe plan failed", name=tenant.name)
        body = render_template("billing/past_due_mail.txt", tenant=tenant, plan=plans.plan_name(row.plan),
                               grace_ends=plans.grace_ends(row), link=url_for("portal_billing.show", _external=True),
                               off=[str(plans.FEATURE_NAMES[feature]) for feature in plans.FEATURES
                                    if feature in plans.plans().get(row.plan, ())])
    for email in admins:
        mail.queue(email, subject, body)
