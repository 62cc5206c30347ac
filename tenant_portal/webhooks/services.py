"""The portal's webhook actions, each noted in the audit log (the webhooks themselves: ``tenants/webhooks``)."""

from __future__ import annotations

from flask_login import current_user

from tenant_portal.services import record
from tenants.webhooks import services as webhooks
from tenants.webhooks.models import WebhookEndpoint, WebhookMessage


def add_endpoint(url: str, events: list[str], personal_data: bool) -> webhooks.NewEndpoint:
    """Add an endpoint (``webhooks.InvalidEndpoint`` when it cannot be one); its secret is in the answer only."""
    added = webhooks.add_endpoint(url, events, personal_data, current_user.email)
    record("webhook.create", added.endpoint.url, events=added.endpoint.events, personal_data=personal_data)
    return added


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    record("webhook.delete", endpoint.url)
    webhooks.delete_endpoint(endpoint)


def enable_endpoint(endpoint: WebhookEndpoint) -> None:
    webhooks.enable_endpoint(endpoint)
    record("webhook.enable", endpoint.url)


def resend(endpoint: WebhookEndpoint, message: WebhookMessage) -> None:
    webhooks.resend(message)
    record("webhook.resend", endpoint.url, event=message.event_type, event_id=message.event_id)
