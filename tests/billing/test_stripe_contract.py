"""The contract with the real Stripe, in its test mode: what billing asks of the fake, asked of Stripe itself. Runs
only with ``STRIPE_TEST_KEY`` (a secret key of a Stripe account's test mode); the fake cannot prove that the
parameters we send are the ones Stripe takes at the pinned API version."""

from __future__ import annotations

import os

import pytest
import stripe

from billing import services, stripe_api
from core.tenancy import tenant_context
from tenants.models import utcnow

KEY = os.environ.get("STRIPE_TEST_KEY", "")


@pytest.fixture
def real_stripe(app):
    if not KEY:
        pytest.skip("needs STRIPE_TEST_KEY: a secret key of a Stripe account in test mode")
    client = stripe.StripeClient(KEY, stripe_version=stripe_api.API_VERSION)
    product = client.v1.products.create(params={"name": "HeForShe contract test"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 50000, "currency": "usd",
                                            "recurring": {"interval": "month"}})
    app.config.update(STRIPE_SECRET_KEY=KEY, STRIPE_API_BASE="", STRIPE_PRICES={"partner": price.id})
    app.extensions.pop("stripe_client", None)
    yield client
    client.v1.products.update(product.id, params={"active": False})


def test_checkout_and_a_subscription_as_stripe_itself_answers(app, db, make_tenant, real_stripe):
    acme = make_tenant("acme", "Acme Corporation", plan="community")
    with app.test_request_context(base_url="http://acme.hfs.test"), tenant_context(acme):
        url = services.start_checkout(acme, "partner", "billing@acme.example", "https://acme.example/portal/billing")
        account = services.account()
        assert url.startswith("https://checkout.stripe.com/")
        assert services.checkout_waiting(account) == "open"
        customer = real_stripe.v1.customers.retrieve(account.customer_id)
        assert customer.metadata["tenant_id"] == str(acme.id)
        # A subscription paid with Stripe's test card, read back as the webhook handler reads it.
        real_stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": account.customer_id})
        subscription = real_stripe.v1.subscriptions.create(params={
            "customer": account.customer_id, "items": [{"price": app.config["STRIPE_PRICES"]["partner"]}],
            "default_payment_method": "pm_card_visa",
            "metadata": {"purpose": services.PURPOSE, "tenant_id": str(acme.id), "plan": "partner"}})
        read = stripe_api.client().v1.subscriptions.retrieve(subscription.id).to_dict()
        assert services.tenant_of(read).id == acme.id
        services.sync(acme, read, utcnow())
        upcoming, past = services.invoices()
        assert past and upcoming is not None
        real_stripe.v1.subscriptions.cancel(subscription.id)
        db.session.rollback()
