"""Signing people in and out. A session belongs to the tenant (host) where it was made."""

from flask import g, session
from flask_login import login_user, logout_user


def sign_in(member) -> None:
    """Start a fresh session for ``member`` on the current tenant's host (no session fixation)."""
    session.clear()
    login_user(member)
    session["tenant"] = g.tenant.id


def sign_out() -> None:
    """End the session entirely."""
    logout_user()
    session.clear()
