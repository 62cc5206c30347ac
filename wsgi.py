"""The WSGI entry point: ``gunicorn wsgi:app``."""

from core import mail
from core.app import create_app

app = create_app()
mail.start_thread_worker(app)  # MAIL_WORKER=thread: this process also sends the queued mail
