"""The operator console (``/operator`` on the global host) and the public application to join (``/join``): the
partner lifecycle as the HeForShe team runs it. Above ``tenants``, beside the portal: what it needs of the portal
(inviting a tenant's first admin) the app factory hands it."""

from collections.abc import Callable

from flask import request


def init_app(app, invite_admin: Callable) -> None:
    """Register the pages and ``flask operator``; ``invite_admin(tenant, email, base_url)`` invites a new tenant's
    first admin by a single-use link to ``base_url`` (the portal's invitation)."""
    from operator_console import cli, views

    app.extensions["operator_console"] = {"invite_admin": invite_admin}
    app.register_blueprint(views.join)
    app.register_blueprint(views.bp)
    cli.init_app(app)

    @app.after_request
    def never_stored(response):
        # The console's pages are one operator's: the back button on a shared computer must not show them again.
        if request.blueprint == views.bp.name:
            response.headers["Cache-Control"] = "no-store"
        return response
