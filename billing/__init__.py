"""Stripe subscriptions: choosing and paying for a plan (``/portal/billing``), Stripe's webhooks and dunning. What
a plan gives is decided below, in ``tenants.plans``, which the portal, the API and templates ask; billing only
keeps the plan in step with Stripe. Gifts to UN Women (``billing.giving``) go through the same Stripe account and
webhook endpoint. Beside the portal, not above it: what it needs of the portal (its audit log)
the app factory hands it."""

from collections.abc import Callable

from flask import request


def init_app(app, record_audit: Callable) -> None:
    """Register the billing page, the giving pages and Stripe's webhook endpoint, and the worker's task that handles
    the events;
    ``record_audit(action, target, **details)`` notes a change in the tenant's audit log (the portal's)."""
    from core import worker
    from billing import stripe_api, views, webhooks
    from billing.giving import views as giving

    app.extensions["billing"] = {"record_audit": record_audit}
    app.register_blueprint(views.bp)
    app.register_blueprint(views.hooks)
    app.register_blueprint(giving.bp)
    # Pages invite a gift only where one can be made (a site without Stripe's keys has no way to pay).
    app.add_template_global(stripe_api.configured, "giving_open")
    worker.register("stripe events", webhooks.handle_due)

    @app.after_request
    def never_stored(response):
        # An admin's page: the back button on a shared computer must not show it again.
        if request.blueprint == views.bp.name:
            response.headers["Cache-Control"] = "no-store"
        return response
