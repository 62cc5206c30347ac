"""Portal pages: webhook endpoints, their delivery log, resending (admins only: viewers see none of it)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from tenant_portal.forms import ConfirmForm
from tenant_portal.access import admin_required, gate
from tenant_portal.confirmation import confirm_page, require_confirmation
from tenant_portal.webhooks import services
from tenant_portal.webhooks.forms import EVENT_NAMES, EndpointForm
from tenants.webhooks import services as webhooks

bp = Blueprint("portal_webhooks", __name__, url_prefix="/portal/webhooks")
gate(bp, "api")


@bp.get("")
@admin_required
def index():
    """Every endpoint, with its events and state."""
    return render_template("tenant_portal/webhooks/index.html", endpoints=webhooks.endpoints(),
                           event_names=EVENT_NAMES)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Add an endpoint; its secret is shown on the answer to this form, and never again."""
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            added = services.add_endpoint(form.url.data, form.events.data, form.personal_data.data)
        except webhooks.InvalidEndpoint as refusal:
            form.url.errors.append(str(refusal))
        else:
            return render_template("tenant_portal/webhooks/added.html", endpoint=added.endpoint,
                                   secret=added.secret, event_names=EVENT_NAMES)
    return render_template("tenant_portal/webhooks/new.html", form=form), 400 if form.errors else 200


def _endpoint(endpoint_id: uuid.UUID):
    return webhooks.find_endpoint(endpoint_id) or abort(404)


@bp.get("/<uuid:endpoint_id>")
@admin_required
def show(endpoint_id: uuid.UUID):
    """An endpoint's delivery log: its latest messages, each try's answer, and a button to send one again."""
    endpoint = _endpoint(endpoint_id)
    return render_template("tenant_portal/webhooks/show.html", endpoint=endpoint, form=ConfirmForm(),
                           log=webhooks.delivery_log(endpoint), event_names=EVENT_NAMES)


@bp.post("/<uuid:endpoint_id>/messages/<uuid:message_id>/resend")
@admin_required
def resend(endpoint_id: uuid.UUID, message_id: uuid.UUID):
    """Send a message again (the worker sends it within a few seconds)."""
    endpoint = _endpoint(endpoint_id)
    message = webhooks.find_message(endpoint, message_id) or abort(404)
    require_confirmation()
    services.resend(endpoint, message)
    flash(_("The event will be sent again in a few seconds."))
    return redirect(url_for("portal_webhooks.show", endpoint_id=endpoint.id), code=303)


@bp.post("/<uuid:endpoint_id>/enable")
@admin_required
def enable(endpoint_id: uuid.UUID):
    """Turn an endpoint that was turned off back on."""
    endpoint = _endpoint(endpoint_id)
    require_confirmation()
    services.enable_endpoint(endpoint)
    flash(_("The endpoint is on again: new events will be sent to it."))
    return redirect(url_for("portal_webhooks.show", endpoint_id=endpoint.id), code=303)


@bp.route("/<uuid:endpoint_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(endpoint_id: uuid.UUID):
    """Remove an endpoint, after a confirmation."""
    endpoint = _endpoint(endpoint_id)
    return confirm_page("tenant_portal/webhooks/delete.html", lambda: services.delete_endpoint(endpoint),
                        _("The endpoint is removed."), url_for("portal_webhooks.index"), endpoint=endpoint)
