"""Everything inside one partner organisation: its registry entry, units, members, commitments and sign-up page."""

from sqlalchemy import event
from sqlalchemy.orm import Session


def init_app(app):
    """Register the tenant-facing pages and operator commands; hand core what a tenant's host serves on its
    shared routes and where the roll-up finds the commitments (``tenants/site.py``); keep the host cache in step
    with changed tenants; let the mail worker make confirmation mails; have the worker deliver webhooks."""
    from core import mail, signals
    from tenants import cli, invalidation, site, sso, views, webhooks
    from tenants.services import confirmations, hosts

    app.register_blueprint(views.bp)
    cli.init_app(app)
    sso.init_app(app)
    invalidation.init_app(app)
    webhooks.init_app(app)
    site.init_app(app)
    # A tenant changed through this process is forgotten by the host cache as soon as the change is committed.
    if not event.contains(Session, "after_flush", hosts.note_changed_tenants):  # one Session class, many apps
        event.listen(Session, "after_flush", hosts.note_changed_tenants)
    signals.committed.connect(hosts.forget_committed_tenants, sender=hosts.CHANGED_TENANTS)
    mail.register_composer(confirmations.CONFIRMATION_JOB, confirmations.compose)
