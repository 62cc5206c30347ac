"""The one Stripe client: keys from the configuration, the API version pinned (what this code reads was written
against it; a Stripe account's default version may move on without changing what we get), short timeouts (a page
waits for it)."""

from __future__ import annotations

import stripe
from flask import current_app

API_VERSION = "2026-10-28.endive"
TIMEOUT_SECONDS = 15


class NotConfigured(RuntimeError):
    """No Stripe secret key: billing is off on this site."""


def configured() -> bool:
    return bool(current_app.config["STRIPE_SECRET_KEY"])


def client() -> stripe.StripeClient:
    """This app's client (made once), at ``STRIPE_API_BASE`` when that is set (the tests' fake Stripe)."""
    made = current_app.extensions.get("stripe_client")
    if made is None:
        if not configured():
            raise NotConfigured("STRIPE_SECRET_KEY is not set")
        base = current_app.config["STRIPE_API_BASE"]
        made = stripe.StripeClient(current_app.config["STRIPE_SECRET_KEY"], stripe_version=API_VERSION,
                                   base_addresses={"api": base} if base else None, max_network_retries=2,
                                   http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS))
        current_app.extensions["stripe_client"] = made
    return made
