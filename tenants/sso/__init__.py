"""Single sign-on: each tenant's people sign in through the organisation's identity provider (OIDC or SAML)."""


def init_app(app):
    """Register the sign-in endpoints, the page helpers they need, and the commands for stored secrets."""
    from tenants.sso import cli, oidc, saml, views
    from tenants.sso.forms import SignOutForm
    from tenants.sso.services import connection

    oidc.init_app(app)
    saml.init_app(app)
    app.register_blueprint(views.bp)
    cli.init_app(app)

    @app.context_processor
    def sign_in_helpers():
        return {"sso_available": lambda: connection(enabled_only=True) is not None, "sign_out_form": SignOutForm}
