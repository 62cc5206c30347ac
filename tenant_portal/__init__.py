"""The tenant admins' portal (``/portal`` on the tenant's host): dashboard, targets, units, members, branding,
single sign-on, exports and the audit log. Each area is a package with its own blueprint."""

from importlib import import_module

from flask_babel import lazy_gettext as _l

AREAS = ("dashboard", "targets", "units", "members", "branding")

#: The portal's menu: (endpoint, label). An entry shows once its endpoint exists.
NAVIGATION = (
    ("portal_dashboard.show", _l("Dashboard")),
    ("portal_targets.index", _l("Targets")),
    ("portal_units.index", _l("Units")),
    ("portal_members.index", _l("Members")),
    ("portal_branding.edit", _l("Branding")),
    ("tenant_portal.sso_settings", _l("Sign-in")),
    ("portal_dashboard.exports", _l("Exports")),
    ("tenant_portal.audit", _l("Audit log")),
)


def init_app(app):
    """Register the portal's pages, area by area."""
    from tenant_portal import cli, views

    app.register_blueprint(views.bp)
    for area in AREAS:
        app.register_blueprint(import_module(f"tenant_portal.{area}.views").bp)
    app.register_blueprint(import_module("tenant_portal.members.views").me)  # /me and invitation links
    app.context_processor(views.navigation)
    cli.init_app(app)
