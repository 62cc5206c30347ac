"""``/give`` on the global host and every tenant's host: choose an amount, pay on Stripe's page, come back."""

from __future__ import annotations

import stripe
from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from billing import stripe_api
from billing.giving import services
from billing.giving.forms import OTHER, GiveForm
from core.forms import Form
from core.navigation import continue_to
from tenants.giving.services import money
from tenants.services import movement

bp = Blueprint("giving", __name__, url_prefix="/give", template_folder="templates")


def _client() -> stripe.StripeClient | None:
    return stripe_api.client() if stripe_api.configured() else None


def _giving_tenant():
    """The tenant gifts made here come through: this host's, or the movement's on the global host."""
    tenant = g.get("tenant") or movement.find()
    if tenant is None:
        abort(404)
    return tenant


@bp.route("", methods=["GET", "POST"])
def give():
    """The gift form; it sends the giver to Stripe Checkout, or says why not."""
    tenant = _giving_tenant()
    language = str(get_locale())
    form = GiveForm()
    currency = services.currency_for(form.currency.data if form.is_submitted() else request.args.get("currency"),
                                     language)
    form.offer(currency, {str(value): money(value * 100, currency) for value in services.presets(currency)},
                _("Another amount"))
    client = _client()
    problem = None
    if form.validate_on_submit() and client is not None:
        try:
            address = services.start_checkout(
                client, tenant.id, form.minor_units(), currency, form.frequency.data == "monthly", language,
                url_for("giving.thanks", _external=True), url_for("giving.give", currency=currency, _external=True))
        except stripe.StripeError:
            current_app.logger.exception("Stripe refused or did not answer a Checkout Session")
            problem = _("The payment page could not be opened just now. Nothing was charged: please try again in a "
                        "minute.")
        else:
            return continue_to(address)  # Stripe's page is another host: form-action 'self' stops a redirect
    status = 400 if form.errors else 503 if problem or (form.is_submitted() and client is None) else 200
    return render_template("giving/give.html", form=form, currency=currency, currencies=services.currencies(),
                           available=client is not None, problem=problem, other=OTHER), status


@bp.get("/thanks")
def thanks():
    """Where Stripe sends the giver back; the gift is recorded from Stripe's confirmation, not from this visit."""
    return render_template("giving/thanks.html")


@bp.route("/stop/<stop_token>", methods=["GET", "POST"])
def stop(stop_token: str):
    """A monthly gift stopped from its receipt: the link shows a button, and only pressing it stops the gift (a mail
    scanner following the link stops nothing)."""
    tenant = _giving_tenant()
    subscription = services.stoppable(tenant.id, stop_token)
    if subscription is None:
        abort(404)
    form = Form()  # the button's CSRF token
    stopped = problem = None
    if form.is_submitted():
        if not form.validate():
            abort(400)
        stopped = _stopped(subscription)
        problem = None if stopped else _("Your gift could not be stopped just now: please try again in a minute.")
    return render_template("giving/stop.html", form=form, stopped=stopped, problem=problem), 503 if problem else 200


def _stopped(subscription: str) -> bool:
    client = _client()
    if client is None:  # Stripe's keys were removed since the gift: nothing can be stopped from here
        current_app.logger.error("A monthly gift cannot be stopped: STRIPE_SECRET_KEY is not set")
        return False
    try:
        services.stop(client, subscription)
    except stripe.StripeError:
        current_app.logger.exception("A monthly gift could not be stopped")
        return False
    return True
