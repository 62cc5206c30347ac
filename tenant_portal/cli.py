"""Operator commands for the portal: ``flask portal invite-admin``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from tenant_portal.members import services as members
from tenants.models import Tenant

portal_cli = AppGroup("portal", help="Look after tenants' portals.")


@portal_cli.command("invite-admin")
@click.argument("slug")
@click.argument("email")
@click.option("--url", help="The tenant's address as its people reach it (default: its address under "
                            "BASE_DOMAIN, https where cookies are secure).")
def invite_admin(slug, email, url):
    """Invite EMAIL by mail to become an admin of SLUG (a single-use link, valid 7 days): how a new tenant's
    first admin gets in, before the organisation's single sign-on is set up."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no tenant {slug!r}")
    if tenant.is_movement:
        raise click.ClickException("the HeForShe movement has no admins and no portal: run it with `flask tenants`")
    try:
        members.invite_first_admin(tenant, email, url)
    except members.MemberChangeRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"{slug}: an invitation to become an admin is queued for {email} (the mail worker sends it); its link works once, for 7 days.")


def init_app(app) -> None:
    """Register the ``flask portal`` commands."""
    app.cli.add_command(portal_cli)
