"""Everything inside one partner organisation: its registry entry, units, members, commitments and sign-up page."""


def init_app(app):
    """Register the tenant-facing pages and operator commands."""
    from tenants import cli, sso, views

    app.register_blueprint(views.bp)
    cli.init_app(app)
    sso.init_app(app)
