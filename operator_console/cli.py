"""Operator commands: ``flask operator add | remove | list``: who may open the console."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from operator_console import services
from operator_console.models import Operator

operator_cli = AppGroup("operator", help="The HeForShe team's operators, who run the console at /operator.")


@operator_cli.command("add")
@click.argument("email")
@click.option("--name", help="How the operator is named in the console.")
@click.option("--break-glass", is_flag=True,
              help="Also give them a password (asked for) and a TOTP secret (shown once), for when the team's "
                   "identity provider is down.")
def add(email, name, break_glass):
    """Let EMAIL open the console by signing in through the team's identity provider (OPERATOR_OIDC_*)."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True) if break_glass else None
    try:
        operator, secret = services.add_operator(email, name, password)
    except services.Refused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"{operator.email} may open the console.")
    if secret:
        click.echo(f"TOTP secret (add it to their authenticator app now; it is not shown again): {secret}")


@operator_cli.command("remove")
@click.argument("email")
def remove(email):
    """Stop EMAIL from opening the console, ending their sessions."""
    if not services.remove_operator(email):
        raise click.ClickException(f"no operator {email!r}")
    db.session.commit()
    click.echo(f"{email} can no longer open the console.")


@operator_cli.command("list")
def list_operators():
    """Every operator, and whether they have a break-glass sign-in."""
    for operator in db.session.scalars(select(Operator).order_by(Operator.email)):
        state = "active" if operator.active else "removed"
        click.echo(f"{operator.email:<40} {state:<8} {'break-glass' if operator.password_hash else ''}")


def init_app(app) -> None:
    app.cli.add_command(operator_cli)
