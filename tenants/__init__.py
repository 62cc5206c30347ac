"""Everything inside one partner organisation: its registry entry, units, members, commitments and sign-up page."""

from flask import g

from core.templating import listing
from sqlalchemy import event
from sqlalchemy.orm import Session


def init_app(app):
    """Register the tenant-facing pages (the action kits' too) and operator commands; hand core what a tenant's
    host serves on its shared routes and where the roll-up finds the commitments (``tenants/site.py``); keep the
    host cache in step with changed tenants; let the mail worker make confirmation mails; have the worker deliver
    webhooks and the actions' reminders; give templates ``entitled(feature)`` and ``plan_notice()``, of the current
    tenant (``tenants/plans.py``)."""
    from core import mail, signals
    from tenants import actions, cli, giving, invalidation, kits, plans, site, sso, views, webhooks
    from tenants.services import confirmations, hosts

    app.register_blueprint(views.bp)
    cli.init_app(app)
    sso.init_app(app)
    invalidation.init_app(app)
    giving.init_app(app)
    webhooks.init_app(app)
    actions.init_app(app)
    kits.init_app(app)
    site.init_app(app)
    # A tenant changed through this process is forgotten by the host cache as soon as the change is committed.
    if not event.contains(Session, "after_flush", hosts.note_changed_tenants):  # one Session class, many apps
        event.listen(Session, "after_flush", hosts.note_changed_tenants)
    signals.committed.connect(hosts.forget_committed_tenants, sender=hosts.CHANGED_TENANTS)
    mail.register_composer(confirmations.CONFIRMATION_JOB, confirmations.compose)

    @app.context_processor
    def entitlements():
        tenant = g.get("tenant")
        return {"entitled": lambda feature: tenant is not None and plans.entitled(tenant, feature),
                "plan_notice": lambda: plans.notice(tenant) if tenant is not None else None,
                "effective_plan": lambda: plans.effective_plan(tenant),
                "feature_names": plans.FEATURE_NAMES, "plan_name": plans.plan_name,
                "feature_list": lambda features: listing([str(plans.FEATURE_NAMES[name]) for name in features])}
