"""The tenant admins' portal: admin sign-in and the organisation's settings (single sign-on so far)."""


def init_app(app):
    """Register the portal's pages."""
    from tenant_portal import views

    app.register_blueprint(views.bp)
