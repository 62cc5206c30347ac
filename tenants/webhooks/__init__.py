"""Signed webhooks from an outbox: endpoints and events (``services``), delivery by the worker (``delivery``)."""


def init_app(app) -> None:
    """Have the worker deliver the webhooks."""
    from core import worker
    from tenants.webhooks import delivery

    worker.register("webhooks", delivery.deliver_due)
