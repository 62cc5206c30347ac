"""The portal's billing page (``/portal/billing`` on a tenant's host, its admins only) and Stripe's webhook endpoint
(``/stripe/webhook`` on the global host only)."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from babel.numbers import get_currency_precision
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from billing import services, stripe_api, webhooks
from billing.forms import PlanForm
from core import auth
from core.navigation import continue_to
from tenants import plans
from tenants.models import Role

bp = Blueprint("portal_billing", __name__, url_prefix="/portal/billing", template_folder="templates")
hooks = Blueprint("stripe_webhooks", __name__)


INVOICE_STATUS_NAMES = {"draft": _l("Draft"), "open": _l("To pay"), "paid": _l("Paid"), "uncollectible": _l("Unpaid"),
                        "void": _l("Cancelled")}


def money(amount: int, currency: str) -> str:
    """An amount in a currency's smallest unit (cents), as the page's language writes it."""
    currency = currency.upper()
    return format_currency(amount / 10 ** get_currency_precision(currency), currency)


@bp.context_processor
def _names():
    return {"status_names": plans.STATUS_NAMES, "invoice_status_names": INVOICE_STATUS_NAMES, "money": money}


def admin_required(view):
    """The tenant's admins, signed in by a way that opens the portal (as the portal's own pages: billing may not
    import the portal); a POST's CSRF token is checked first (400)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if g.get("tenant") is None:
            abort(404)
        if auth.signed_in_via() not in auth.PORTAL_SIGN_INS:
            return redirect(url_for("tenant_portal.sign_in", next=request.full_path.rstrip("?")))
        if current_user.role is not Role.ADMIN:
            abort(403)
        if request.method == "POST" and not PlanForm().validate_on_submit():
            abort(400)
        return view(*args, **kwargs)

    return guarded


@bp.get("")
@admin_required
def show():
    """The plan, its status and what it gives; the invoices; choosing a plan, Stripe's portal, cancelling."""
    if not stripe_api.configured():
        return render_template("billing/billing.html", configured=False, row=plans.plan_of(g.tenant),
                               plans=plans.plans(), form=PlanForm())
    account = services.account()
    return render_template("billing/billing.html", configured=True, row=plans.plan_of(g.tenant), account=account,
                           plans=plans.plans(), buyable=services.buyable_plans(), form=PlanForm(),
                           effective=plans.effective_plan(g.tenant), features=plans.features(g.tenant),
                           waiting=services.checkout_waiting(account), invoices=services.invoices())


def _configured_or_back():
    if not stripe_api.configured():
        flash(_("Billing is not configured on this site: no plan can be bought here."))
        return redirect(url_for("portal_billing.show"), code=303)
    return None


@bp.post("/checkout")
@admin_required
def checkout():
    """To Stripe Checkout for the plan chosen; back here once paid, where the plan waits for Stripe's word."""
    if (back := _configured_or_back()) is not None:
        return back
    plan = request.form.get("plan", "")
    if plan not in services.buyable_plans():
        abort(400)
    try:
        url = services.start_checkout(g.tenant, plan, current_user.email, url_for("portal_billing.show",
                                                                                   _external=True))
    except services.Refused as refusal:
        flash(str(refusal))
        return redirect(url_for("portal_billing.show"), code=303)
    services.record("billing.checkout", plans.plan_name(plan), plan=plan)
    return continue_to(url)


@bp.post("/manage")
@admin_required
def manage():
    """To Stripe's customer portal: payment methods, invoices, changing or cancelling the plan."""
    if (back := _configured_or_back()) is not None:
        return back
    try:
        return continue_to(services.portal_url(url_for("portal_billing.show", _external=True)))
    except services.Refused as refusal:
        flash(str(refusal))
        return redirect(url_for("portal_billing.show"), code=303)


def _cancel(cancel: bool) -> bool:
    """Ask Stripe to end the subscription at the end of the period (or no longer); whether it did."""
    try:
        services.set_cancel_at_period_end(g.tenant, cancel)
    except services.Refused as refusal:
        flash(str(refusal))
        return False
    return True


@bp.post("/cancel")
@admin_required
def cancel():
    """End the plan when the period paid for ends; every setting is kept."""
    if (back := _configured_or_back()) is None and _cancel(True):
        plan = plans.plan_of(g.tenant).plan
        services.record("billing.cancel", plans.plan_name(plan), plan=plan)
        flash(_("Your plan ends at the end of the period paid for. Every setting is kept."))
    return back or redirect(url_for("portal_billing.show"), code=303)


@bp.post("/resume")
@admin_required
def resume():
    if (back := _configured_or_back()) is None and _cancel(False):
        plan = plans.plan_of(g.tenant).plan
        services.record("billing.resume", plans.plan_name(plan), plan=plan)
        flash(_("Your plan goes on: it will not end at the end of the period."))
    return back or redirect(url_for("portal_billing.show"), code=303)


@hooks.post("/stripe/webhook")
def stripe_webhook():
    """Kept at once for the worker; 400 for anything not signed by Stripe with our secret in the last 5 minutes."""
    if g.get("tenant") is not None:
        abort(404)
    try:
        webhooks.receive(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    except webhooks.BadSignature as error:
        current_app.logger.warning("a Stripe webhook was refused: %s", error)
        return {"error": "bad signature"}, 400
    return {"received": True}, 200
