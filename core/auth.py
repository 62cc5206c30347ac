"""Signing people in and out. A session belongs to the tenant (host) where it was made, remembers how its
person signed in, and ends on every device when the person signs out (see ``Member.end_sessions``)."""

import enum

from flask import current_app, g, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf


class Via(enum.Enum):
    """How a session's person proved who they are."""

    SSO = "sso"  # the organisation's identity provider
    BREAK_GLASS = "break_glass"  # password and TOTP code
    INVITATION = "invitation"  # a single-use invitation to the portal
    EMAIL_LINK = "email_link"  # a single-use link to one's own page: proves the mailbox, nothing more


#: Sign-ins that may open the admins' portal; an emailed link to one's own page opens that page only.
PORTAL_SIGN_INS = frozenset({Via.SSO, Via.BREAK_GLASS, Via.INVITATION})


def sign_in(member, via: Via) -> None:
    """Start a fresh session for ``member`` on the current tenant's host (no session fixation)."""
    session.clear()
    login_user(member)
    session["tenant"] = g.tenant.id
    session["via"] = via.value
    _issue_csrf_token()


def signed_in_via() -> Via | None:
    """How the current session was signed in; None when nobody is signed in."""
    if not current_user.is_authenticated:
        return None
    try:
        return Via(session.get("via"))
    except ValueError:
        return None


def _issue_csrf_token() -> None:
    """Give the new session its CSRF token now. Left to the first page that draws a form, two requests
    racing after sign-in (a page and the browser's /favicon.ico, say) would each mint one, and the
    page whose cookie lost would have its form refused."""
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()


def sign_out() -> None:
    """End the session entirely: this cookie, and any copy of it, no longer signs anyone in."""
    if current_user.is_authenticated:
        current_user.end_sessions()
    logout_user()
    session.clear()
