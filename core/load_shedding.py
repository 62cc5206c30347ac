"""Admission: a worker serves a few requests at once, queues the rest in arrival order, and sheds a flood.

A gevent worker accepts every connection it is offered and then serves all of them at once: under a rush
each request waits on all the others, and some, by chance, for seconds (at 256 clients the sign-up p99 was
3.5 s while the median was under half a second). With ``MAX_SERVING`` set (see core/config.py), that many are
served at once and later ones wait their turn, first come first served, so everyone waits about as long. With
``MAX_IN_FLIGHT`` set, a request that arrives while that many are in progress (served and waiting) is answered
``503 Service Unavailable`` with ``Retry-After`` and a one-line page in the visitor's language, before the app
does any work for it. Live event streams (``/live``) stay open for minutes and cost nothing while they wait,
so they are neither counted, queued nor refused.
"""

from __future__ import annotations

import threading
from collections import deque
from functools import lru_cache
from html import escape

from babel import Locale
from babel.support import Translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie
from werkzeug.wsgi import ClosingIterator

from core.config import TRANSLATIONS
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


def page_language(environ) -> str:
    """The visitor's language as the pages choose it (core/i18n.py), without the tenant's own list: no database."""
    chosen = parse_cookie(environ).get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    accepted = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
    return accepted.best_match(LANGUAGES, default="en")


@lru_cache(maxsize=None)
def translated(directory: str, language: str, message: str) -> str:
    """``message`` in ``language``, from the catalogs in ``directory``, outside any request."""
    return Translations.load(directory, [language]).gettext(message)


class Turns:
    """At most ``places`` holders at once; a freed place passes straight to the longest-waiting request, so
    one that comes back at once (the next request on a keep-alive connection) cannot jump the queue."""

    def __init__(self, places: int) -> None:
        self.free = places
        self._waiting: deque[threading.Event] = deque()
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def take(self) -> None:
        with self._lock:
            if self.free:
                self.free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        try:
            turn.wait()
        except BaseException:  # killed while waiting (a worker shutting down): pass on a place it was given
            with self._lock:
                given = turn not in self._waiting
                if not given:
                    self._waiting.remove(turn)
            if given:
                self.give_back()
            raise

    def give_back(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self.free += 1


class LoadShedding:
    """WSGI middleware for one process: at most ``serving`` requests are served at once and later ones wait
    their turn in arrival order (0: all at once); past ``limit`` requests in progress, serving and waiting
    together, a new one gets 503 at once (0: never)."""

    def __init__(self, wsgi_app, limit: int, pages: dict[str, bytes] | None = None, serving: int = 0) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit
        self.pages = pages or {"en": busy_page("en", BUSY)}
        self.in_flight = 0
        self._lock = threading.Lock()
        self.turns = Turns(serving) if serving > 0 else None

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in EXEMPT_PATHS:
            return self.wsgi_app(environ, start_response)
        with self._lock:
            admitted = not self.limit or self.in_flight < self.limit
            if admitted:
                self.in_flight += 1
        if not admitted:
            page = self.pages.get(page_language(environ)) or self.pages["en"]
            start_response("503 Service Unavailable", [
                ("Retry-After", str(RETRY_AFTER_SECONDS)), ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(page))), ("Cache-Control", "no-store"),
                ("Content-Security-Policy", "default-src 'none'")])
            return [page]
        if self.turns is not None:
            try:
                self.turns.take()
            except BaseException:
                self._leave()
                raise
        try:
            # A request is in progress until the server closes its response, after the last byte is sent.
            return ClosingIterator(self.wsgi_app(environ, start_response), self._release)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self.turns is not None:
            self.turns.give_back()
        self._leave()

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def init_app(app) -> None:
    """Serve at most ``MAX_SERVING`` requests at once per worker, the others in arrival order, and shed load
    past ``MAX_IN_FLIGHT`` in progress; with neither set the app is left as it is."""
    limit = int(app.config.get("MAX_IN_FLIGHT") or 0)
    serving = int(app.config.get("MAX_SERVING") or 0)
    if (limit > 0 or serving > 0) and "load_shedding" not in app.extensions:
        directory = app.config.get("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
        pages = {language: busy_page(language, translated(directory, language, BUSY)) for language in LANGUAGES}
        app.wsgi_app = app.extensions["load_shedding"] = LoadShedding(app.wsgi_app, limit, pages, serving)
