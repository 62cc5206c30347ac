"""Branded, translated error pages; nobody sees a stack trace."""

import math
import time
from collections.abc import Callable

from flask import current_app, g, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from core.extensions import db, limiter
from core.load_shedding import N_, RETRY_AFTER_SECONDS, busy_page, page_language, translated

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back, check what you entered and try again.")),
    403: (_l("You cannot open this page"), _l("This page is not open to you.")),
    404: (_l("Page not found"), _l("There is no page at this address. Check it, or start again from the home page.")),
    405: (_l("That did not work"), _l("This page cannot be used that way.")),
    413: (_l("That was too much to send"), _l("What you sent is larger than we accept. Please send less.")),
    429: (_l("Too many tries"), _l("Please wait a minute, then try again.")),
    500: (_l("Something went wrong on our side"),
          _l("We could not finish that. Nothing you entered has been counted twice; please try again in a moment.")),
    503: (_l("We are very busy"), _l("Please try again in a moment.")),
}
DATABASE_AWAY = N_("We could not reach our database just now. Please try again in a few seconds: nothing you "
                   "entered will be counted twice.")


def render_error(code: int):
    """The error page for an HTTP status, in the page's language and the tenant's colours; on a host that names no
    site, HeForShe's page leading to the global site (a neutral one on a suspended tenant's host)."""
    if g.get("unknown_site"):
        template = "core/suspended_site.html" if g.get("suspended_site") else "core/unknown_site.html"
        return render_template(template), code
    title, explanation = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    return render_template("core/error.html", code=code, title=title, explanation=explanation), code


#: Paths whose errors another package answers in its own format: ``{path prefix: handler(error)}`` (the API's
#: problem details), registered with ``answer_under``.
_ANSWERED_UNDER: dict[str, Callable[[HTTPException], object]] = {}


def answer_under(prefix: str, handler: Callable[[HTTPException], object]) -> None:
    """Answer errors on paths under ``prefix`` with ``handler`` (even those no route of theirs raised: 404, 405)."""
    _ANSWERED_UNDER[prefix] = handler


def _handle_http(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    for prefix, handler in _ANSWERED_UNDER.items():
        if request.path.startswith(prefix):
            return handler(error)
    if request.path.endswith(".json"):
        response = make_response({"error": str(MESSAGES.get(error.code, MESSAGES[400])[0])}, error.code)
    else:
        response = make_response(render_error(error.code))
    if error.code == 429:
        response.headers["Retry-After"] = str(retry_after())
    return response


def retry_after() -> int:
    """Seconds until the rate limit that refused the request lets it through again, for ``Retry-After``.
    (flask-limiter's own headers, RATELIMIT_HEADERS_ENABLED, would go on every answer of a limited form and
    count down the tries left, so two otherwise identical answers would differ.)"""
    breached = limiter.current_limit
    seconds = breached.reset_at - time.time() if breached is not None else 60
    return max(1, math.ceil(seconds))


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http(error)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    # A failed flush leaves the transaction void, and the error page reads the database too (the
    # signed-in person): start it afresh, or the error page itself fails.
    db.session.rollback()
    return _handle_http(InternalServerError())


def _handle_database_away(error: OperationalError):
    """The database cannot be reached (restarting, failing over) or gave up on a transaction: 503 with
    ``Retry-After``, on a page that needs no database (the error page's layout reads the tenant's settings)."""
    current_app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
    db.session.rollback()
    language = page_language(request.environ)
    message = translated(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], language, DATABASE_AWAY)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    for prefix, handler in _ANSWERED_UNDER.items():
        if request.path.startswith(prefix):
            response = handler(ServiceUnavailable())
            response.headers.update(headers)
            return response
    if request.path.endswith(".json"):
        return {"error": message}, 503, headers
    return busy_page(language, message), 503, {**headers, "Content-Type": "text/html; charset=utf-8"}


def init_app(app):
    """Answer every error with a page of our own."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(OperationalError, _handle_database_away)
    app.register_error_handler(Exception, _handle_unexpected)
