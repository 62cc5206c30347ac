"""Load shedding: a worker that has enough to do already answers 503 at once instead of queueing more.

A gevent worker accepts every connection it is offered and then serves all of them slowly: at 256 clients
a sign-up's p99 reached seconds. With ``MAX_IN_FLIGHT`` set (see core/config.py), a request that arrives
while that many are in progress in this worker is answered ``503 Service Unavailable`` with ``Retry-After``
and a one-line page in the visitor's language, before the app does any work for it. Live event streams
(``/live``) stay open for minutes and cost nothing while they wait, so they are neither counted nor refused.
"""

from __future__ import annotations

import threading
from html import escape

from babel import Locale
from babel.support import Translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie
from werkzeug.wsgi import ClosingIterator

from core.config import ROOT
from core.i18n import LANGUAGE_COOKIE, LANGUAGES

EXEMPT_PATHS = frozenset({"/live"})
RETRY_AFTER_SECONDS = 1


def N_(message: str) -> str:
    """Marks a text for the catalogs (``make messages``) where it is translated later, outside any request."""
    return message


BUSY = N_("So many people are joining at this moment that we could not answer. Please try again in a few seconds.")


def busy_page(language: str, message: str) -> bytes:
    """The small page a shed request gets, in one language."""
    direction = Locale.parse(language).text_direction
    return (f'<!doctype html>\n<html lang="{language}" dir="{direction}">\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>HeForShe</title>\n'
            f"<p>{escape(message)}</p>\n</html>\n").encode()


class LoadShedding:
    """WSGI middleware that lets at most ``limit`` requests be in progress at once in this process."""

    def __init__(self, wsgi_app, limit: int, pages: dict[str, bytes] | None = None) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit
        self.pages = pages or {"en": busy_page("en", BUSY)}
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
            page = self.pages.get(self._language(environ)) or self.pages["en"]
            start_response("503 Service Unavailable", [
                ("Retry-After", str(RETRY_AFTER_SECONDS)), ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(page))), ("Cache-Control", "no-store"),
                ("Content-Security-Policy", "default-src 'none'")])
            return [page]
        try:
            # A request is in progress until the server closes its response, after the last byte is sent.
            return ClosingIterator(self.wsgi_app(environ, start_response), self._release)
        except BaseException:
            self._release()
            raise

    @staticmethod
    def _language(environ) -> str:
        # As the pages choose it (core/i18n.py), without the tenant's own list: no database here.
        chosen = parse_cookie(environ).get(LANGUAGE_COOKIE)
        if chosen in LANGUAGES:
            return chosen
        accepted = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        return accepted.best_match(LANGUAGES, default="en")

    def _release(self) -> None:
        with self._lock:
            self.in_flight -= 1


def init_app(app) -> None:
    """Shed load past ``MAX_IN_FLIGHT`` requests in progress per worker; unset or 0 leaves the app as it is."""
    limit = int(app.config.get("MAX_IN_FLIGHT") or 0)
    if limit > 0 and "load_shedding" not in app.extensions:
        directory = app.config.get("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
        pages = {language: busy_page(language, Translations.load(directory, [language]).gettext(BUSY))
                 for language in LANGUAGES}
        app.wsgi_app = app.extensions["load_shedding"] = LoadShedding(app.wsgi_app, limit, pages)
