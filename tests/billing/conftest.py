"""Fixtures of the billing tests: the fake Stripe (``stripe_fake.py``, run once per session, emptied for each test),
driven through the real stripe library, and its events delivered to the app signed as Stripe signs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import stripe

from billing import stripe_api
from core import worker
from tests.helpers import host

FAKE = Path(__file__).with_name("stripe_fake.py")
KEY = "sk_test_fake_stripe_key"
WEBHOOK_SECRET = "whsec_test_fake_stripe_secret"


@pytest.fixture(scope="session")
def stripe_server():
    """The fake Stripe's address (a process of its own, its state in memory)."""
    process = subprocess.Popen([sys.executable, str(FAKE)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class FakeStripe:
    """The fake Stripe as a test drives it: what Stripe would do by itself (renew a subscription, retry an invoice,
    send its events) done when the test says."""

    def __init__(self, app, base: str):
        self.app, self.base = app, base
        self.client = stripe.StripeClient(KEY, base_addresses={"api": base}, stripe_version=stripe_api.API_VERSION)
        self.delivered: set[str] = set()

    def events(self) -> list[dict]:
        """Every event the fake Stripe made, oldest first, as Stripe would send them."""
        answer = requests.get(f"{self.base}/v1/events", params={"limit": 100}, auth=(KEY, ""), timeout=10)
        return answer.json()["data"]

    def post(self, client, body: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None,
             sent: str | None = None):
        """Post ``sent`` (``body`` unless given) to the app's endpoint, signed over ``body`` as Stripe signs."""
        header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
        return client.post("/stripe/webhook", base_url=host(), data=sent if sent is not None else body,
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"})

    def deliver(self, client, reverse: bool = False) -> list[str]:
        """Send every event not sent yet (newest first with ``reverse``); the types sent."""
        fresh = [event for event in self.events() if event["id"] not in self.delivered]
        for event in reversed(fresh) if reverse else fresh:
            assert self.post(client, json.dumps(event)).status_code == 200
            self.delivered.add(event["id"])
        return [event["type"] for event in fresh]

    def work(self) -> None:
        """One pass of the worker (what it does within a second in production)."""
        with self.app.app_context():
            worker.run_once()

    def renew(self, subscription_id: str, card: str = "pm_card_visa") -> dict:
        """A new period begins: Stripe invoices the subscription and charges the customer's card (a declined one:
        ``pm_card_chargeCustomerFail``); returns the invoice."""
        self.use_card(self.client.v1.subscriptions.retrieve(subscription_id).customer, card)
        answer = requests.post(f"{self.base}/_fake/subscriptions/{subscription_id}/renew", auth=(KEY, ""), timeout=10)
        answer.raise_for_status()
        return answer.json()

    def use_card(self, customer: str, card: str) -> None:
        self.client.v1.payment_methods.attach(card, params={"customer": customer})
        self.client.v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": card}})

    def pay(self, invoice_id: str, card: str = "pm_card_visa") -> None:
        """The customer gives a card that works, and the invoice is paid."""
        self.use_card(self.client.v1.invoices.retrieve(invoice_id).customer, card)
        self.client.v1.invoices.pay(invoice_id)


@pytest.fixture
def stripe_fake(app, stripe_server) -> FakeStripe:
    """The fake Stripe, empty, with a Partner and an Enterprise price, and the app set up to use it."""
    requests.delete(f"{stripe_server}/_config/data", timeout=10).raise_for_status()
    fake = FakeStripe(app, stripe_server)
    product = fake.client.v1.products.create(params={"name": "HeForShe partnership"})
    prices = {plan: fake.client.v1.plans.create(params={
        "product": product.id, "amount": amount, "currency": "usd", "interval": "month", "nickname": plan}).id
        for plan, amount in (("partner", 50000), ("enterprise", 200000))}
    app.config.update(STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE=stripe_server,
                      STRIPE_PRICES=prices)
    app.extensions.pop("stripe_client", None)
    return fake
