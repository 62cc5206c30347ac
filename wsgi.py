"""The WSGI entry point: ``gunicorn wsgi:app``."""

import click

from core import mail
from core.app import create_app

app = create_app()
# MAIL_WORKER=thread: a served process also sends the queued mail. A `flask` command loads this module too
# (FLASK_APP=wsgi), inside click's context: it must not start a sender (during `flask db upgrade` the outbox
# does not exist yet).
if click.get_current_context(silent=True) is None:
    mail.start_thread_worker(app)
