"""The break-glass admin sign-in: email, password and a TOTP code, for when the identity provider is down.

Off by default; the operator turns it on per tenant (``flask sso break-glass``). Five wrong tries lock
the account for fifteen minutes: each try is counted in the database before its password is checked (one
atomic UPDATE), so concurrent tries cannot share a count. A code is accepted once: its time step is kept,
and no code of that step or an earlier one works again.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core import crypto
from core.extensions import db
from tenants.models import Member, Role, Tenant, utcnow
from tenants.services.members import canonical_email, find_or_create_member
from tenants.services.registry import InvalidTenantSetting

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12


def enable(tenant: Tenant, email: str, password: str) -> str:
    """Turn the break-glass sign-in on for this admin; returns the new TOTP secret (shown once).

    Any session the admin had ends: new credentials may be a response to stolen ones.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidTenantSetting(_l("The password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH))
    member = find_or_create_member(email)
    member.role = Role.ADMIN
    member.password_hash = generate_password_hash(password)
    secret = pyotp.random_base32()
    member.totp_secret = crypto.encrypt(secret)
    member.failed_sign_ins, member.locked_until, member.totp_last_step = 0, None, None
    member.end_sessions()
    tenant.break_glass_enabled = True
    db.session.flush()
    return secret


def disable(tenant: Tenant) -> None:
    """Turn it off, forget every break-glass password and TOTP secret of the tenant, and end those sessions."""
    for member in db.session.scalars(select(Member).where(Member.password_hash.is_not(None))):
        member.password_hash = member.totp_secret = None
        member.end_sessions()
    tenant.break_glass_enabled = False
    db.session.flush()


def verify(tenant: Tenant, email: str, password: str, code: str) -> Member | None:
    """The admin these credentials prove, or None (wrong, locked, a code used before, or the sign-in is off)."""
    if not tenant.break_glass_enabled:
        return None
    member = db.session.scalars(select(Member).where(Member.email_canonical == canonical_email(email))).one_or_none()
    if member is None or not member.is_break_glass or member.role is not Role.ADMIN:
        generate_password_hash(password)  # about as slow as a real check: no hint that the address is unknown
        return None
    tries = _take_a_try(member)
    if tries is None:  # locked, or its last tries are being checked right now
        generate_password_hash(password)  # as slow as a check: no hint of the lock, so none of the account
        return None
    step = matching_step(member.totp_secret, code)
    if check_password_hash(member.password_hash, password) and step is not None and _use_step(member, step):
        _update(member, failed_sign_ins=0, locked_until=None)
        return member
    if tries >= MAX_FAILURES:
        _update(member, failed_sign_ins=0, locked_until=utcnow() + LOCK_TIME)
    return None


def _take_a_try(member: Member) -> int | None:
    """Count a try before checking it; returns how many tries are counted now, or None when the account is
    locked or has no try left. One UPDATE: concurrent tries each get their own number, and no more than
    ``MAX_FAILURES`` of them get one (on PostgreSQL the row stays locked until the request ends)."""
    now = utcnow()
    return db.session.scalar(
        update(Member)
        .where(Member.id == member.id, Member.failed_sign_ins < MAX_FAILURES,
               or_(Member.locked_until.is_(None), Member.locked_until <= now))
        .values(failed_sign_ins=Member.failed_sign_ins + 1)
        .returning(Member.failed_sign_ins)
        .execution_options(synchronize_session=False))


def matching_step(encrypted_secret: str, code: str) -> int | None:
    """The time step (of the current one and its two neighbours, for clock drift) whose code this is, for a TOTP
    secret kept encrypted (``core.crypto``); the operators' break-glass sign-in checks its codes with it too."""
    totp = pyotp.TOTP(crypto.decrypt(encrypted_secret))
    current = totp.timecode(utcnow())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None


def _use_step(member: Member, step: int) -> bool:
    """Record ``step`` as the last one accepted; False when it, or a later one, was accepted before."""
    used = db.session.execute(
        update(Member)
        .where(Member.id == member.id, or_(Member.totp_last_step.is_(None), Member.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))
    return used.rowcount == 1


def _update(member: Member, **values) -> None:
    db.session.execute(update(Member).where(Member.id == member.id).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.expire(member)
