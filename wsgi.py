"""The WSGI entry point: ``gunicorn wsgi:app``."""

import click

from core import worker
from core.app import create_app
from core.snapshots import daily

app = create_app()
# WORKER=thread: a served process also runs the worker (mail, webhooks); SNAPSHOT_TAKER=thread: it takes the daily
# snapshot. A `flask` command loads this module too (FLASK_APP=wsgi), inside click's context: it must start neither
# (during `flask db upgrade` their tables do not exist yet).
if click.get_current_context(silent=True) is None:
    worker.start_thread(app)
    daily.start_thread_taker(app)
