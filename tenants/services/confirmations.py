"""Confirming a commitment by mail: the mail and its link, and the link's use.

The link carries the commitment's id, signed with ``SECRET_KEY`` and timed (itsdangerous): it works for
``LINK_LIFETIME``, and once, since the commitment's ``confirmed_at`` marks it used (every link mailed for one
commitment is used up by the first that confirms it). Nothing about a link is stored. Opening the link changes
nothing: the page it opens has a button, and only pressing it confirms (mail filters open links to scan them).
"""

from __future__ import annotations

import enum
import uuid
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from core import mail
from core.extensions import db
from tenants.models import Commitment, Member, Tenant
from tenants.services import hosts, signups
from tenants.services.members import canonical_email

LINK_LIFETIME = timedelta(days=7)
#: The mail job of a confirmation link (``compose`` makes its message).
CONFIRMATION_JOB = "commitment_confirmation"
_SALT = "commitment-confirmation"


class Unusable(enum.Enum):
    """Why a confirmation link cannot be used."""

    UNKNOWN = "unknown"  # altered, or names no commitment of this tenant: 404
    EXPIRED = "expired"  # older than LINK_LIFETIME: 410
    USED = "used"  # its commitment is confirmed already: 410


class LinkUnusable(LookupError):
    """A confirmation link that cannot be used, and why."""

    def __init__(self, reason: Unusable):
        super().__init__(reason.value)
        self.reason = reason

    @property
    def status(self) -> int:
        return 404 if self.reason is Unusable.UNKNOWN else 410


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def ask_to_confirm(tenant: Tenant, email: str, language: str) -> None:
    """Queue the confirmation mail of the commitment just made (or repeated) with ``email`` in ``tenant``, in
    ``language``; the mail worker makes it (``compose``). Writes the same one outbox row whoever the address
    belongs to, so the sign-up answers alike for a newcomer and a repeat."""
    mail.queue_job(CONFIRMATION_JOB, email, {"tenant_id": tenant.id, "email": email, "language": language,
                                             "base_url": request.host_url})


def compose(asked: dict) -> EmailMessage | None:
    """The mail worker's half of ``ask_to_confirm``: a mail with a fresh link to confirm the commitment, or None
    (no mail) when it is confirmed or vouched for already, withdrawn, or gone."""
    tenant = db.session.get(Tenant, asked["tenant_id"])
    if tenant is None:
        return None
    with hosts.on_site(tenant, asked["base_url"]):
        found = db.session.execute(
            select(Commitment, Member.email).join(Member, Member.id == Commitment.member_id)
            .where(Member.email_canonical == canonical_email(asked["email"]))).one_or_none()
        if found is None:
            return None
        commitment, address = found
        if commitment.verified or commitment.withdrawn_at is not None:
            return None
        link = url_for("tenants.confirm_commitment", token=link_token(commitment), _external=True)
        with force_locale(asked["language"]):
            subject = _("Please confirm your HeForShe commitment at %(name)s", name=tenant.name)
            body = render_template("tenants/confirmation_mail.txt", tenant=tenant, link=link,
                                   awaiting=commitment.awaiting_confirmation, days=LINK_LIFETIME.days)
        return mail.build(address, subject, body, sender_name=tenant.name)


def link_token(commitment: Commitment) -> str:
    """A fresh token of a link that confirms ``commitment``."""
    return _serializer().dumps(str(commitment.id))


def usable_commitment(token: str) -> Commitment:
    """The current tenant's commitment this link confirms; raises ``LinkUnusable`` when it is altered, names no
    commitment here, has expired, or was used."""
    try:
        commitment_id = uuid.UUID(_serializer().loads(token, max_age=int(LINK_LIFETIME.total_seconds())))
    except SignatureExpired as expired:
        raise LinkUnusable(Unusable.EXPIRED) from expired
    except (BadSignature, ValueError, TypeError) as bad:
        raise LinkUnusable(Unusable.UNKNOWN) from bad
    commitment = db.session.scalars(select(Commitment).where(Commitment.id == commitment_id)).one_or_none()
    if commitment is None:
        raise LinkUnusable(Unusable.UNKNOWN)
    if commitment.confirmed_at is not None:
        raise LinkUnusable(Unusable.USED)
    return commitment


def confirm(token: str) -> None:
    """Use a confirmation link: its commitment is confirmed (verified, and counted if it was waiting for this).
    Raises ``LinkUnusable`` as ``usable_commitment``, also when another request used it a moment earlier."""
    if not signups.confirm(usable_commitment(token)):
        raise LinkUnusable(Unusable.USED)
