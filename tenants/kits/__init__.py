"""Action kits: what to do next after committing, published by the operator and chosen or added by each tenant."""


def init_app(app) -> None:
    """Register the kits' pages and ``flask kits``."""
    from tenants.kits import cli, views

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.kits_cli)
