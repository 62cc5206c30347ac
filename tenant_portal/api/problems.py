"""The API's errors as problem details (RFC 9457, ``application/problem+json``), in the request's language."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from core.errors import MESSAGES, retry_after

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: _l("The request could not be read"),
    401: _l("A valid API key is needed"),
    403: _l("This key may not do that"),
    404: _l("Not found"),
    413: MESSAGES[413][0],
    415: _l("Send the body as JSON"),
    422: _l("Some fields are not right"),
    429: MESSAGES[429][0],
}

#: marshmallow's own messages, in the reader's language (marshmallow has no catalogs of its own).
FIELD_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Unknown field.": _l("This field is not one the API takes."),
    "Field may not be null.": _l("This field cannot be empty."),
    "Not a valid string.": _l("Send text here."),
    "Not a valid integer.": _l("Send a whole number here."),
    "Not a valid boolean.": _l("Send true or false here."),
    "Not a valid datetime.": _l("Send a date and time like 2026-12-04T10:00:00Z."),
    "Not a timezone-aware datetime.": _l("Send a date and time with its time zone, like 2026-12-04T10:00:00Z."),
    "Invalid input type.": _l("Send a JSON object."),
}


def _said(message) -> str:
    text = str(message)
    if text in FIELD_MESSAGES:
        return str(FIELD_MESSAGES[text])
    if text.startswith("Must be one of:"):
        return str(_l("Choose one of: %(choices)s", choices=text.removeprefix("Must be one of:").strip(" .")))
    if text.startswith("Length must be") or text.startswith("Shorter than") or text.startswith("Longer than"):
        return str(_l("This is too long or too short."))
    if text.startswith("Must be greater") or text.startswith("Must be less"):
        return str(_l("This number is out of range."))
    return text


def field_errors(messages, pointer: str = "") -> list[dict]:
    """marshmallow's nested messages as a flat list of ``{"pointer", "detail"}`` (JSON pointers into the body)."""
    if isinstance(messages, dict):
        return [error for name, inner in messages.items() for error in field_errors(inner, f"{pointer}/{name}")]
    if isinstance(messages, (list, tuple)):
        return [error for inner in messages for error in field_errors(inner, pointer)]
    return [{"pointer": pointer or "/", "detail": _said(messages)}]


def problem(status: int, detail: str | None = None, errors: list[dict] | None = None, headers: dict | None = None):
    """A problem details answer for ``status``."""
    body = {"type": "about:blank", "title": str(TITLES.get(status, MESSAGES.get(status, MESSAGES[400])[0])),
            "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_exception(error: HTTPException):
    """Any HTTP error raised under ``/api/`` (webargs' validation errors carry their messages in ``data``)."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    errors = None
    if messages:  # {location: {field: [message]}}: the location is not part of the pointer
        errors = [error for inner in messages.values() for error in field_errors(inner)]
    headers = dict(data.get("headers") or {})
    if error.code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if error.code == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = str(retry_after())
    if error.code >= 500:
        return problem(error.code, headers=headers)
    detail = data.get("detail") or (error.description if isinstance(error.description, str) and data else None)
    return problem(error.code, detail=detail, errors=errors, headers=headers)
