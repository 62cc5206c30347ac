"""Signing people in and out. A session belongs to the tenant (host) where it was made."""

from flask import current_app, g, session
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf


def sign_in(member) -> None:
    """Start a fresh session for ``member`` on the current tenant's host (no session fixation)."""
    session.clear()
    login_user(member)
    session["tenant"] = g.tenant.id
    _issue_csrf_token()


def _issue_csrf_token() -> None:
    """Give the new session its CSRF token now. Left to the first page that draws a form, two requests
    racing after sign-in (a page and the browser's /favicon.ico, say) would each mint one, and the
    page whose cookie lost would have its form refused."""
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()


def sign_out() -> None:
    """End the session entirely."""
    logout_user()
    session.clear()
