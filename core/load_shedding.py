"""Load shedding: a worker that has enough to do already answers 503 at once instead of queueing more.

A gevent worker accepts every connection it is offered and then serves all of them slowly: at 256 clients
a sign-up's p99 reached seconds. With ``MAX_IN_FLIGHT`` set (see core/config.py), a request
that arrives while that many are in progress in this worker is answered ``503 Service Unavailable`` with
``Retry-After``, before the app does any work for it. Live event streams (``/live``) stay open for minutes
and cost nothing while they wait, so they are neither counted nor refused.
"""

from __future__ import annotations

import threading

from werkzeug.wsgi import ClosingIterator

EXEMPT_PATHS = frozenset({"/live"})
RETRY_AFTER_SECONDS = 1
BUSY = b"Too many requests at this moment; please try again in a second.\n"


class LoadShedding:
    """WSGI middleware that lets at most ``limit`` requests be in progress at once in this process."""

    def __init__(self, wsgi_app, limit: int) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit
        self.in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in EXEMPT_PATHS:
            return self.wsgi_app(environ, start_response)
        with self._lock:
            admitted = self.in_flight < self.limit
            if admitted:
                self.in_flight += 1
        if not admitted:
            start_response("503 Service Unavailable", [
                ("Retry-After", str(RETRY_AFTER_SECONDS)), ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(BUSY))), ("Cache-Control", "no-store")])
            return [BUSY]
        try:
            # A request is in progress until the server closes its response, after the last byte is sent.
            return ClosingIterator(self.wsgi_app(environ, start_response), self._release)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        with self._lock:
            self.in_flight -= 1


def init_app(app) -> None:
    """Shed load past ``MAX_IN_FLIGHT`` requests in progress per worker; unset or 0 leaves the app as it is."""
    limit = int(app.config.get("MAX_IN_FLIGHT") or 0)
    if limit > 0 and "load_shedding" not in app.extensions:
        app.wsgi_app = app.extensions["load_shedding"] = LoadShedding(app.wsgi_app, limit)
