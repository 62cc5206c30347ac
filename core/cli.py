"""Operator commands of the core: ``flask mail work`` (the roll-up's own are in ``core/rollup/cli.py``)."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from core import mail

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
    """Register the ``flask mail`` commands."""
    app.cli.add_command(mail_cli)
