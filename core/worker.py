"""The worker: one process (``flask worker``) that does the work no request waits for, outbox by outbox: the
mail (``core/mail.py``) and, registered by the packages that own them, others (the tenants' webhooks).

Each task is a function ``task(stop=...) -> int`` that does what is due now (claiming its rows so that two workers
never do the same work), commits as it goes and returns how much it did. A package adds its own with
``register`` in its ``init_app``; the core registers the mail.

Production runs ``flask worker`` beside the web server, under the same supervisor; ``make run`` starts it beside
gunicorn. With ``WORKER=thread`` (the tests' and a bare ``gunicorn wsgi:app``'s default outside production) a
thread of each web process does the same instead, started by ``wsgi.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from core import mail
from core.extensions import db

#: A task: does what is due (until its ``stop`` keyword is set) and returns how many items it handled.
Task = Callable[..., int]
_tasks: dict[str, Task] = {}


def register(name: str, task: Task) -> None:
    """Have the worker run ``task`` at every pass (once per name, at app set-up)."""
    if _tasks.get(name, task) is not task:
        raise ValueError(f"a worker task named {name!r} is registered already")
    _tasks[name] = task


def run_once(stop: threading.Event | None = None) -> dict[str, int]:
    """One pass: every task does what is due now. A task that fails is logged and does not stop the others."""
    done = {}
    for name, task in _tasks.items():
        if stop is not None and stop.is_set():
            break
        try:
            done[name] = task(stop=stop)
        except SQLAlchemyError:
            current_app.logger.exception("the worker's %s task could not read its outbox", name)
            db.session.rollback()
    return done


def work(app: Flask, stop: threading.Event) -> None:
    """The worker's loop: a pass, then another every ``WORKER_POLL_SECONDS``, until ``stop`` is set. A database
    that cannot be reached is logged and tried again at the next pass."""
    while not stop.is_set():
        with app.app_context():
            run_once(stop)
            db.session.remove()
        stop.wait(app.config["WORKER_POLL_SECONDS"])


def start_thread(app: Flask) -> threading.Event | None:
    """With ``WORKER=thread``, run the worker in a thread of this process; returns the event that stops it.
    Otherwise (``process``: ``flask worker`` runs apart) nothing starts and None is returned."""
    if app.config["WORKER"] != "thread":
        return None
    stop = threading.Event()
    threading.Thread(target=work, args=(app, stop), name="worker", daemon=True).start()
    return stop


def init_app(app: Flask) -> None:
    """The core's own task: the mail."""
    register("mail", mail.deliver_due)
