"""``flask kits load-starter``: publish the starter kits (``starter/``) the database lacks."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.extensions import db
from tenants.kits import services

kits_cli = AppGroup("kits", help="The action kits.")


@kits_cli.command("load-starter")
def load_starter():
    """Publish the starter kits and add their missing translations; safe to run at every deploy (what is there
    already, perhaps edited in the console, is kept)."""
    created, added = services.load_starter()
    db.session.commit()
    click.echo(f"Starter kits: {len(created)} created, {len(added)} translations added.")
