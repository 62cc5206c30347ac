"""The break-glass admin sign-in: email, password and a TOTP code, for when the identity provider is down.

Off by default; the operator turns it on per tenant (``flask sso break-glass``). Five wrong tries lock
the account for fifteen minutes.
"""

from __future__ import annotations

from datetime import timedelta, timezone

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from core import crypto
from core.extensions import db
from tenants.models import Member, Role, Tenant, utcnow
from tenants.services import InvalidTenantSetting, canonical_email, find_or_create_member

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12


def enable(tenant: Tenant, email: str, password: str) -> str:
    """Turn the break-glass sign-in on for this admin; returns the new TOTP secret (shown once)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidTenantSetting(_l("The password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH))
    member = find_or_create_member(email)
    member.role = Role.ADMIN
    member.password_hash = generate_password_hash(password)
    secret = pyotp.random_base32()
    member.totp_secret = crypto.encrypt(secret)
    member.failed_sign_ins, member.locked_until = 0, None
    tenant.break_glass_enabled = True
    db.session.flush()
    return secret


def disable(tenant: Tenant) -> None:
    """Turn it off and forget every break-glass password and TOTP secret of the tenant."""
    for member in db.session.scalars(select(Member).where(Member.password_hash.is_not(None))):
        member.password_hash = member.totp_secret = None
    tenant.break_glass_enabled = False
    db.session.flush()


def verify(tenant: Tenant, email: str, password: str, code: str) -> Member | None:
    """The admin these credentials prove, or None (wrong, locked, or the sign-in is off)."""
    if not tenant.break_glass_enabled:
        return None
    member = db.session.scalars(select(Member).where(Member.email_canonical == canonical_email(email))).one_or_none()
    if member is None or member.password_hash is None or member.role is not Role.ADMIN:
        generate_password_hash(password)  # about as slow as a real check: no hint that the address is unknown
        return None
    locked_until = member.locked_until
    if locked_until is not None and locked_until.replace(tzinfo=locked_until.tzinfo or timezone.utc) > utcnow():
        return None
    totp = pyotp.TOTP(crypto.decrypt(member.totp_secret))
    if check_password_hash(member.password_hash, password) and totp.verify(code.strip(), valid_window=1):
        member.failed_sign_ins, member.locked_until = 0, None
        db.session.flush()
        return member
    member.failed_sign_ins += 1
    if member.failed_sign_ins >= MAX_FAILURES:
        member.failed_sign_ins, member.locked_until = 0, utcnow() + LOCK_TIME
    db.session.flush()
    return None
