"""Leaving our site after a form: a page of ours that goes on by itself.

The Content-Security-Policy's ``form-action 'self'`` also covers every redirect that follows a form's
submission, so a form cannot POST here and be redirected to another host (a partner's sign-in on its own
host, an identity provider): browsers stop it, silently. A page that moves on by ``<meta http-equiv=refresh>``
starts an ordinary navigation instead, which ``form-action`` does not govern; the policy stays as strict.
"""

from __future__ import annotations

from flask import Response, make_response, render_template


def continue_to(target: str) -> Response:
    """The answer to a form whose next stop is on another host: a page that goes to ``target`` at once
    (and shows a link, for browsers that do not follow refreshes)."""
    response = make_response(render_template("core/continue.html", target=target))
    response.headers["Cache-Control"] = "no-store"  # it may carry a one-time sign-in request
    return response
