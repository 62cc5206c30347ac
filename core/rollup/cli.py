"""Operator commands of the core: ``flask rollup recount``, ``flask mail work``."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from core import mail
from core.extensions import db
from tenants import rollup
from tenants.models import Tenant

rollup_cli = AppGroup("rollup", help="Check and repair the counts.")


@rollup_cli.command("recount")
@click.option("--repair", is_flag=True, help="Rewrite the tallies that disagree with the commitments.")
def recount(repair):
    """Recount every tenant from its commitments and report any drift in the tallies."""
    tenant_count = db.session.scalar(select(func.count()).select_from(Tenant))
    with click.progressbar(length=tenant_count, label="Recounting tenants") as bar:
        drifts = rollup.recount(repair=repair, progress=lambda tenant: bar.update(1))
    for drift in drifts:
        click.echo(f"{drift.scope} {drift.dimension}={drift.key}: stored total/men {drift.stored[0]}/{drift.stored[1]}, "
                   f"counted {drift.expected[0]}/{drift.expected[1]}")
    if not drifts:
        click.echo("No drift: every tally matches the commitments.")
    elif repair:
        db.session.commit()
        click.echo(f"Repaired {len(drifts)} tallies.")
    else:
        db.session.rollback()
        raise click.ClickException(f"{len(drifts)} tallies drifted; run again with --repair to fix them.")


mail_cli = AppGroup("mail", help="Send the queued mail.")


@mail_cli.command("work")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
def work(once):
    """Send the outbox over SMTP, trying failed messages again later; runs until stopped (SIGTERM, Ctrl-C)."""
    if once:
        click.echo(f"Sent {mail.deliver_due()} messages.")
        return
    stop = threading.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stop.set())
    click.echo("Sending queued mail; stop with Ctrl-C or SIGTERM.")
    mail.work(current_app._get_current_object(), stop)


def init_app(app) -> None:
    """Register the ``flask rollup`` and ``flask mail`` commands."""
    app.cli.add_command(rollup_cli)
    app.cli.add_command(mail_cli)
