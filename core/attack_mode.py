"""Attack mode: while an operator has it on, for one tenant or everywhere, the public sign-up form asks the
browser for a proof of work (ALTCHA), so that a flood of automated sign-ups costs its sender real computing time
while a person waits about a second.

A challenge is signed with keys only the server knows and expires after ``ALTCHA_EXPIRES_SECONDS``. It is
pre-solved (ALTCHA's deterministic mode): the browser must find the one counter, between half of
``ALTCHA_MAX_NUMBER`` and all of it, whose PBKDF2 key (``ALTCHA_COST`` rounds) starts as the challenge says, and
the server checks the key it sends with one HMAC. ``accept`` spends a solution: its challenge's signature is
written to ``spent_challenges`` in the request's transaction. The database rather than each worker's memory or
Redis, so that a replay is refused by every worker and machine, with or without Redis; and in the transaction, so
that a solution is used up only by a commitment that is kept (a form refused for another reason rolls it back).

The switch everywhere is the latest change everywhere in ``attack_mode_changes``, which each process reads at most
every ``SWITCH_CACHE_SECONDS`` (a tenant's own switch comes with its host, remembered as long).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime, timezone

import altcha
from flask import current_app
from sqlalchemy import delete, select

from core.database import insert
from core.extensions import db
from core.models import AttackModeChange, SpentChallenge

ALGORITHM = "PBKDF2/SHA-256"  # the widget's default; its worker uses the browser's own WebCrypto
SWITCH_CACHE_SECONDS = 2.0
MAX_PAYLOAD_LENGTH = 4096  # a widget's payload is about 700 characters
_PURGE_AT_ONCE = 20  # expired spent challenges each accepted solution clears (it adds one)


def _key(purpose: str) -> str:
    """A signing key (the challenge's, or its solution's), derived from ALTCHA_HMAC_KEY, or else SECRET_KEY."""
    secret = current_app.config["ALTCHA_HMAC_KEY"] or current_app.config["SECRET_KEY"]
    return hmac.new(secret.encode(), f"altcha {purpose}".encode(), hashlib.sha256).hexdigest()


def challenge() -> dict:
    """A new signed challenge, as the widget fetches it (JSON)."""
    config = current_app.config
    top = max(2, config["ALTCHA_MAX_NUMBER"])
    issued = altcha.create_challenge(
        ALGORITHM, config["ALTCHA_COST"], counter=top // 2 + secrets.randbelow(top - top // 2),
        expires_at=int(time.time()) + config["ALTCHA_EXPIRES_SECONDS"],
        hmac_secret=_key("challenge"), hmac_key_secret=_key("solution"))
    return issued.to_dict()


def accept(payload: str | None) -> bool:
    """Whether ``payload`` (the widget's form field) solves an unexpired challenge of ours that no kept commitment
    used before. A solution accepted is spent with the request's transaction."""
    if not payload or len(payload) > MAX_PAYLOAD_LENGTH:
        return False
    try:
        solved = altcha.Payload.from_base64(payload)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # not a widget's payload
        return False
    result = altcha.verify_solution(solved, _key("challenge"), hmac_key_secret=_key("solution"))
    expires_at = solved.challenge.parameters.expires_at
    if not result.verified or not isinstance(expires_at, int):
        return False
    return _spend(solved.challenge.signature, datetime.fromtimestamp(expires_at, timezone.utc))


def _spend(signature: str, expires_at: datetime) -> bool:
    """Remember a challenge as used until it expires; False if it was used already. Clears a few expired ones on
    the way, skipping those another transaction holds (so that concurrent sign-ups never wait on each other)."""
    expired = (select(SpentChallenge.signature).where(SpentChallenge.expires_at < datetime.now(timezone.utc))
               .limit(_PURGE_AT_ONCE).with_for_update(skip_locked=True))
    db.session.execute(delete(SpentChallenge).where(SpentChallenge.signature.in_(expired)),
                       execution_options={"synchronize_session": False})
    spent = db.session.execute(
        insert(SpentChallenge).values(signature=signature, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["signature"]).returning(SpentChallenge.signature)).scalar()
    return spent is not None


def everywhere() -> bool:
    """Whether attack mode is on for every tenant, as this process read it at most ``SWITCH_CACHE_SECONDS`` ago."""
    remembered = current_app.extensions.get("attack_mode")
    if remembered is not None and time.monotonic() < remembered[1]:
        return remembered[0]
    latest = db.session.scalar(select(AttackModeChange.enabled).where(AttackModeChange.tenant_id.is_(None))
                               .order_by(AttackModeChange.id.desc()).limit(1))
    current_app.extensions["attack_mode"] = (bool(latest), time.monotonic() + SWITCH_CACHE_SECONDS)
    return bool(latest)


def record_change(enabled: bool, reason: str, tenant_id: int | None = None, site: str = "everywhere") -> None:
    """Note that attack mode was turned on or off, for one tenant or (``tenant_id`` None) everywhere, and why: in
    ``attack_mode_changes`` and the app's log. Without a tenant this is the switch everywhere itself."""
    reason = reason.strip()
    if not reason:
        raise ValueError("say why attack mode changes (--reason)")
    db.session.add(AttackModeChange(tenant_id=tenant_id, enabled=enabled, reason=reason,
                                    changed_at=datetime.now(timezone.utc)))
    db.session.flush()
    current_app.extensions.pop("attack_mode", None)  # this process reads the switch again
    current_app.logger.warning("attack mode %s for %s: %s", "on" if enabled else "off", site, reason)


def latest_changes() -> dict[int | None, AttackModeChange]:
    """The latest change everywhere (key None) and for each tenant ever switched (key: its id)."""
    changes = db.session.scalars(select(AttackModeChange).order_by(AttackModeChange.id)).all()
    return {change.tenant_id: change for change in changes}
