"""Operator commands of the core: ``flask worker`` (the roll-up's own are in ``core/rollup/cli.py``)."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from core import worker


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Do what is due now (mail, webhooks), then stop.")
def work(once):
    """Send the queued mail and webhooks, trying failed ones again later; runs until stopped (SIGTERM, Ctrl-C)."""
    if once:
        done = worker.run_once()
        click.echo(", ".join(f"{name}: {count}" for name, count in done.items()))
        return
    stop = threading.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stop.set())
    click.echo("Worker running (mail, webhooks); stop with Ctrl-C or SIGTERM.", err=True)
    worker.work(current_app._get_current_object(), stop)


def init_app(app) -> None:
    """Register ``flask worker``."""
    app.cli.add_command(work)
