"""API keys (made, listed, revoked, recognised) and the API's writes, over the tenants' own services.

Plain functions; they flush and never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_login import current_user
from sqlalchemy import delete, or_, select

from core.database import insert_new
from core.extensions import db
from core.rollup.services import as_utc
from core.tenancy import current_tenant_id
from tenant_portal.api.models import SCOPES, ApiKey, IdempotentAnswer
from tenant_portal.services import record
from tenants.models import Commitment, Member, Unit, utcnow
from tenants.services import signups
from tenants.services.members import canonical_email

#: Every key starts so: secret scanners and people can tell what leaked.
TOKEN_PREFIX = "hfs_"
#: How long an answer to an ``Idempotency-Key`` is kept.
IDEMPOTENCY_LIFETIME = timedelta(hours=24)
#: ``last_used_at`` is written at most this often per key, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str, str]:
    """A new key's prefix (which finds it), token (given once) and the hash of the token (kept)."""
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}.{secrets.token_urlsafe(32)}"
    return prefix, token, _hash(token)


def create_key(name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key for the current tenant, and its token: the one time the token exists outside the caller."""
    prefix, token, secret_hash = new_token()
    key = ApiKey(name=name, scopes=[scope for scope in SCOPES if scope in scopes], prefix=prefix,
                 secret_hash=secret_hash, created_by=current_user.email if current_user and current_user.is_authenticated else None)
    db.session.add(key)
    db.session.flush()
    record("api.key_create", name, key_id=str(key.id), scopes=key.scopes)
    return key, token


def keys() -> list[ApiKey]:
    """The current tenant's keys still in force, newest first."""
    return list(db.session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None))
                                   .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


def find_key(key_id: uuid.UUID) -> ApiKey | None:
    return db.session.scalars(select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))).one_or_none()


def revoke_key(key: ApiKey) -> None:
    """Revoke a key: the next request that carries it is refused."""
    key.revoked_at = utcnow()
    db.session.flush()
    record("api.key_revoke", key.name, key_id=str(key.id))


def authenticate(token: str) -> ApiKey | None:
    """The current tenant's key in force that ``token`` is, or None (another tenant's key is not found at all)."""
    if not token.startswith(TOKEN_PREFIX) or "." not in token:
        return None
    prefix = token[len(TOKEN_PREFIX):].split(".", 1)[0]
    key = db.session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.secret_hash, _hash(token)):
        return None
    now = utcnow()
    if key.last_used_at is None or now - as_utc(key.last_used_at) > LAST_USED_PRECISION:
        key.last_used_at = now
        db.session.flush()
    return key


def request_hash(body: dict) -> str:
    """What identifies a request's body, whatever the order or spacing of its fields."""
    return _hash(json.dumps(body, sort_keys=True, default=str, separators=(",", ":")))


@dataclass(frozen=True)
class Replay:
    """An earlier answer to the same ``Idempotency-Key``: the same request's (``matches``), or another's."""

    matches: bool
    status: int | None
    body: dict | None


def claim_idempotency_key(key: str, body_hash: str) -> Replay | None:
    """Claim ``key`` for this request (None: go on, then ``keep_answer``), or the answer kept for it.

    Answers older than 24 hours are forgotten first, so their keys may be used again.
    """
    db.session.execute(delete(IdempotentAnswer).where(IdempotentAnswer.created_at < utcnow() - IDEMPOTENCY_LIFETIME)
                       .execution_options(synchronize_session=False))
    values = {"tenant_id": current_tenant_id(), "key": key, "request_hash": body_hash,
              "created_at": utcnow()}
    if insert_new(IdempotentAnswer.__table__, ("tenant_id", "key"), values, returning="key") is not None:
        return None
    kept = db.session.scalars(select(IdempotentAnswer).where(IdempotentAnswer.key == key)).one()
    return Replay(kept.request_hash == body_hash, kept.status, kept.body)


def keep_answer(key: str, status: int, body: dict) -> None:
    answer = db.session.scalars(select(IdempotentAnswer).where(IdempotentAnswer.key == key)).one()
    answer.status, answer.body = status, body
    db.session.flush()


def unit_by_key(key: str) -> Unit | None:
    return db.session.scalars(select(Unit).where(Unit.external_key == key)).one_or_none()


def commit(signup: signups.SignUp) -> tuple[Commitment, bool]:
    """Record a commitment as the form does (``signups.commit``); the commitment and whether it is new."""
    new = signups.commit(signup)
    if signup.email is None:
        commitment = db.session.scalars(select(Commitment).where(Commitment.member_id.is_(None))
                                        .order_by(Commitment.id.desc()).limit(1)).one()
    else:
        commitment = db.session.scalars(select(Commitment).join(Member, Member.id == Commitment.member_id)
                                        .where(Member.email_canonical == canonical_email(signup.email))).one()
    return commitment, new


def find_commitment(commitment_id: uuid.UUID) -> Commitment | None:
    return db.session.scalars(select(Commitment).where(Commitment.id == commitment_id)).one_or_none()


def commitment_page(updated_since: datetime | None, after: uuid.UUID | None, limit: int) -> list[Commitment]:
    """Up to ``limit`` commitments in id order (ids grow with time) after ``after``, changed since
    ``updated_since`` when given (made, confirmed, withdrawn or invalidated since)."""
    query = select(Commitment).order_by(Commitment.id).limit(limit)
    if after is not None:
        query = query.where(Commitment.id > after)
    if updated_since is not None:
        query = query.where(or_(*(column >= updated_since for column in (
            Commitment.created_at, Commitment.confirmed_at, Commitment.withdrawn_at, Commitment.invalidated_at))))
    return list(db.session.scalars(query))


def encode_cursor(commitment_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(commitment_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID | None:
    """The id a cursor stands for; None for anything that is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw) if len(raw) == 16 else None
    except (ValueError, TypeError):
        return None


def withdraw(commitment: Commitment) -> bool:
    """Withdraw a commitment as its person would (``signups.withdraw``)."""
    return signups.withdraw(commitment)
