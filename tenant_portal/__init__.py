"""The tenant admins' portal (``/portal`` on the tenant's host): dashboard, targets, units, members, branding, kits,
single sign-on, webhooks, course registration, LTI, SCIM provisioning, exports and the audit log. Each area is a
package with its own blueprint."""

from importlib import import_module

from flask import request
from flask_babel import lazy_gettext as _l

AREAS = ("dashboard", "targets", "units", "members", "branding", "kits", "api", "webhooks", "registrations", "lti",
         "provisioning", "giving", "actions")

#: The portal's menu: (endpoint, label). An entry shows once its endpoint exists.
NAVIGATION = (
    ("portal_dashboard.show", _l("Dashboard")),
    ("portal_targets.index", _l("Targets")),
    ("portal_units.index", _l("Units")),
    ("portal_members.index", _l("Members")),
    ("portal_branding.edit", _l("Branding")),
    ("portal_kits.index", _l("Action kits")),
    ("portal_actions.index", _l("Actions and stories")),
    ("tenant_portal.sso_settings", _l("Sign-in")),
    ("portal_webhooks.index", _l("Webhooks")),
    ("portal_registrations.index", _l("Course registration")),
    ("portal_lti.index", _l("LTI")),
    ("portal_dashboard.exports", _l("Exports")),
    ("portal_api.index", _l("API")),
    ("portal_provisioning.index", _l("Provisioning")),
    ("portal_giving.index", _l("Giving")),
    ("tenant_portal.audit", _l("Audit log")),
    ("portal_billing.show", _l("Billing")),  # billing's page, beside the portal
)


def init_app(app):
    """Register the portal's pages, area by area; none of them may be kept by a browser or a proxy."""
    from core import mail, worker
    from tenant_portal import cli, views
    from tenant_portal.api import v1
    from tenant_portal.provisioning import scim
    from tenant_portal.members import services as members
    from tenant_portal.targets import reached

    blueprints = [views.bp, *(import_module(f"tenant_portal.{area}.views").bp for area in AREAS),
                  import_module("tenant_portal.members.views").me,  # /me and invitation links
                  import_module("tenant_portal.actions.views").me,  # one's own actions and story, on /me
                  import_module("tenant_portal.registrations.views").widget,  # the embeddable opt-in
                  import_module("tenant_portal.lti.views").tool_bp]  # what a learning platform calls
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.context_processor(views.navigation)
    v1.init_app(app)  # the API's own blueprints: its keys, not sessions, and no cookies
    app.register_blueprint(scim.bp)  # the SCIM endpoints: the identity provider's token, not sessions
    cli.init_app(app)
    mail.register_composer(members.SIGN_IN_LINK_JOB, members.compose_sign_in_link)
    worker.register("targets reached", reached.check)
    private = frozenset(blueprint.name for blueprint in blueprints)

    @app.after_request
    def never_stored(response):
        # Pages drawn for one signed-in person: the back button on a shared computer must not show them again.
        if request.blueprint in private:
            response.headers["Cache-Control"] = "no-store"
        return response


def load_before_serving(app) -> None:
    """Load now what a request would load on first use: the SCIM protocol (scim2, about a second) and the API's
    OpenAPI document (core.app's warm-up, in a process that serves: a first use in a request would hold up every
    connection of a gevent worker meanwhile). Commands and tests, which seldom need them, start without."""
    from tenant_portal.api import v1
    from tenant_portal.provisioning import protocol  # noqa: F401 - its import is the point

    v1.build_document(app)
