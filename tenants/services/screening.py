"""Signs that a sign-up through the public form was sent by a script rather than a person. They are noted on
the commitment for the operator's review and never refuse it: a person wrongly suspected is still counted,
and sees the same thank-you page as everyone.

- ``honeypot``: the form's hidden trap field was filled in (no person sees it or reaches it by keyboard, and
  screen readers skip it);
- ``too_fast``: sent sooner than ``SIGNUP_MIN_SECONDS`` after the form was shown;
- ``no_render_time``: the form's signed render time was missing or altered (the form was not shown here);
- ``disposable``: the address is at a throwaway-mail domain (the ``disposable-email-domains`` list).
"""

from __future__ import annotations

import time

from disposable_email_domains import blocklist
from flask import current_app
from itsdangerous import BadSignature, Signer

HONEYPOT = "honeypot"
TOO_FAST = "too_fast"
NO_RENDER_TIME = "no_render_time"
DISPOSABLE = "disposable"


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="sign-up form shown")


def render_stamp() -> str:
    """The time the form is shown, signed (milliseconds: itsdangerous' own timestamps count whole seconds)."""
    return _signer().sign(str(int(time.time() * 1000))).decode()


def _seconds_since(stamp: str | None) -> float | None:
    """Seconds since a ``render_stamp`` was made; None when there is none or it is not ours."""
    try:
        return time.time() - int(_signer().unsign(stamp or "")) / 1000
    except (BadSignature, ValueError, UnicodeError):
        return None


def is_disposable(domain: str) -> bool:
    """Whether a (folded) mail domain, or a domain it is under, is a throwaway-mail service's."""
    labels = domain.split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def suspect(trap: str | None, stamp: str | None, email_domain: str) -> str | None:
    """Why a sign-up looks automated, comma-joined; None when nothing does."""
    reasons = []
    if trap:
        reasons.append(HONEYPOT)
    age = _seconds_since(stamp)
    if age is None:
        reasons.append(NO_RENDER_TIME)
    elif age < current_app.config["SIGNUP_MIN_SECONDS"]:
        reasons.append(TOO_FAST)
    if is_disposable(email_domain):
        reasons.append(DISPOSABLE)
    return ",".join(reasons) or None
