"""The WSGI entry point: a served process runs the worker (mail, webhooks) and takes the daily snapshot; a `flask` command
(which loads the same module, FLASK_APP=wsgi) does neither, or `flask db upgrade` on a new database would read tables
not made yet."""

from __future__ import annotations

import runpy
from pathlib import Path

import click

from core import worker
from core.snapshots import daily

WSGI = str(Path(__file__).resolve().parents[1] / "wsgi.py")


def test_a_served_process_sends_mail_and_takes_snapshots_but_a_flask_command_does_not(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'heforshe.sqlite3'}")
    started = []
    monkeypatch.setattr(worker, "start_thread", lambda app: started.append("worker"))
    monkeypatch.setattr(daily, "start_thread_taker", lambda app: started.append("snapshots"))
    with click.Context(click.Command("upgrade")):  # as `flask db upgrade` loads the app
        runpy.run_path(WSGI)
    assert started == []
    runpy.run_path(WSGI)  # as gunicorn loads it
    assert started == ["worker", "snapshots"]
