"""Everything inside one partner organisation: its registry entry, units, members, commitments and sign-up page."""


def init_app(app):
    """Register the tenant-facing pages and operator commands; hand core what a tenant's host serves on its
    shared routes and where the roll-up finds the commitments (``tenants/site.py``)."""
    from tenants import cli, site, sso, views

    app.register_blueprint(views.bp)
    cli.init_app(app)
    sso.init_app(app)
    site.init_app(app)
