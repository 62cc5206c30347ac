"""Members and roles: the list, role changes, invitations by email, removal; each member's own data.

Plain functions over domain objects; they flush and never commit (the request does).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from flask import render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from core import mail
from core.extensions import db
from core.tenancy import current_tenant_id
from tenant_portal.models import Invitation, SignInLink
from tenant_portal.services import record
from tenants.services import hosts, members, signups
from tenants.models import Commitment, Member, Role, Tenant, utcnow

PER_PAGE = 50
INVITATION_LIFETIME = timedelta(days=7)
SIGN_IN_LINK_LIFETIME = timedelta(hours=1)
#: The mail job of a sign-in link (``compose_sign_in_link`` makes its message).
SIGN_IN_LINK_JOB = "sign_in_link"
#: Who may be invited from the portal: the roles that open it.
INVITABLE_ROLES = (Role.ADMIN, Role.VIEWER)


class MemberChangeRefused(ValueError):
    """A change that would leave the tenant without an admin, or is otherwise not allowed; says why."""


class LinkUnusable(LookupError):
    """An invitation or sign-in link that cannot be used: ``gone`` is True when it was used or has expired
    (410), False when it names nothing of this tenant (404)."""

    def __init__(self, gone: bool):
        super().__init__("gone" if gone else "not found")
        self.gone = gone


@dataclass(frozen=True)
class MemberRow:
    """One line of the members list."""

    member: Member
    committed: bool


@dataclass(frozen=True)
class MemberPage:
    """One page of the members list, with the counts shown above it."""

    rows: list[MemberRow]
    page: int
    pages: int
    matching: int
    total: int
    admins: int
    first: int
    last: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def member_page(search: str = "", page: int = 1, per_page: int = PER_PAGE) -> MemberPage:
    """One page of the current tenant's members, newest first, whose email or name contains ``search``
    (case-insensitive), each with whether their commitment stands."""
    standing = (select(Commitment.member_id).where(Commitment.member_id == Member.id,
                                                   Commitment.withdrawn_at.is_(None)).exists())
    query = select(Member, standing)
    search = search.strip()
    if search:
        pattern = f"%{_escape_like(search.lower())}%"
        query = query.where(or_(func.lower(Member.email).like(pattern, escape="\\"),
                                func.lower(Member.display_name).like(pattern, escape="\\")))
    matching = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(matching / per_page))
    page = min(max(page, 1), pages)
    rows = [MemberRow(member, bool(committed)) for member, committed in db.session.execute(
        query.order_by(Member.created_at.desc(), Member.id.desc()).offset((page - 1) * per_page).limit(per_page))]
    offset = (page - 1) * per_page
    return MemberPage(rows=rows, page=page, pages=pages, matching=matching,
                      total=db.session.scalar(select(func.count(Member.id))) or 0, admins=_admin_count(),
                      first=offset + 1 if rows else 0, last=offset + len(rows))


def find_member(member_id: uuid.UUID) -> Member | None:
    """One of the current tenant's members (another tenant's is not found)."""
    return db.session.scalars(select(Member).where(Member.id == member_id)).one_or_none()


def _admin_count() -> int:
    return db.session.scalar(select(func.count(Member.id)).where(Member.role == Role.ADMIN)) or 0


def _refuse_losing_the_last_admin(member: Member) -> None:
    # Locks the admins' rows (on PostgreSQL), so that two admins demoting each other at once cannot both pass.
    admins = db.session.scalars(select(Member.id).where(Member.role == Role.ADMIN).with_for_update()).all()
    if member.role is Role.ADMIN and len(admins) <= 1:
        raise MemberChangeRefused(_("%(email)s is the only admin: make someone else an admin first, "
                                    "so that somebody can still manage this organisation.", email=member.email))


def change_role(member: Member, role: Role, actor: Member) -> bool:
    """Give ``member`` another role; False if it is theirs already. Refuses to leave no admin."""
    if member.role is role:
        return False
    if role is not Role.ADMIN:
        _refuse_losing_the_last_admin(member)
    previous = member.role
    member.role = role
    member.end_sessions()  # a session made under the old role is over: the person signs in again
    db.session.flush()
    record("member.role", member.email, role=role.value, previous=previous.value,
           own=member.id == actor.id)
    return True


def remove_member(member: Member) -> bool:
    """Remove a member: their commitment is withdrawn first (so the counts drop), then their rows deleted.
    Returns whether a standing commitment was withdrawn. Refuses to remove the last admin."""
    _refuse_losing_the_last_admin(member)
    commitment = db.session.scalars(select(Commitment).where(Commitment.member_id == member.id)).one_or_none()
    withdrawn = commitment is not None and signups.withdraw(commitment)
    # Deleted here rather than left to ON DELETE CASCADE: SQLite does not enforce foreign keys by default.
    db.session.execute(delete(Commitment).where(Commitment.member_id == member.id))
    db.session.execute(delete(SignInLink).where(SignInLink.member_id == member.id))
    email = member.email
    db.session.delete(member)
    db.session.flush()
    record("member.remove", email, withdrawn=withdrawn)
    return withdrawn


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _language_of(email: str, tenant: Tenant) -> str:
    """The invitee's language, when they committed here already; else the tenant's default."""
    language = db.session.scalar(
        select(Commitment.language).join(Member, Member.id == Commitment.member_id)
        .where(Member.email_canonical == members.canonical_email(email)))
    return language or tenant.default_language or "en"


def invite(tenant: Tenant, email: str, role: Role, actor: Member | None) -> Invitation:
    """Invite someone by email to become an admin or viewer: a single-use link valid for seven days.

    ``actor`` None is the operator inviting a tenant's first admin (``flask portal invite-admin``), who may
    be an admin already: the link is their way in before single sign-on is set up.
    Only a hash of the token is stored with the invitation; the mail, in the invitee's language, holds the one
    copy, in the outbox until the mail worker has sent it (then its text is deleted).
    Raises ``MemberChangeRefused`` for a role that cannot be invited or a person who has it already.
    """
    if role not in INVITABLE_ROLES:
        raise MemberChangeRefused(_("Only admins and viewers can be invited."))
    existing = db.session.scalars(select(Member).where(
        Member.email_canonical == members.canonical_email(email))).one_or_none()
    if actor is not None and existing is not None and (existing.role is role or existing.role is Role.ADMIN):
        raise MemberChangeRefused(_("%(email)s is already an admin or has this role.", email=existing.email))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=email.strip(), role=role, token_hash=_hash(token),
                            invited_by=actor.id if actor else None, expires_at=utcnow() + INVITATION_LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    record("member.invite", invitation.email, role=role.value, expires_at=invitation.expires_at.isoformat())
    link = url_for("me.invitation", invitation_token=token, _external=True)
    with force_locale(_language_of(email, tenant)):
        subject = _("%(name)s invites you to its HeForShe portal", name=tenant.name)
        body = render_template("tenant_portal/members/invitation_mail.txt", tenant=tenant, link=link, role=role,
                               inviter=(actor.display_name or actor.email) if actor else _("The HeForShe team"),
                               expires_at=invitation.expires_at)
    mail.queue(invitation.email, subject, body, sender_name=tenant.name)
    return invitation


def invite_first_admin(tenant: Tenant, email: str, base_url: str | None = None) -> Invitation:
    """The operators' invitation of a tenant's admin (``flask portal invite-admin``, an approval in the operator
    console): made as on the tenant's own address (``base_url``, by default its address under ``BASE_DOMAIN``),
    so that the link leads there."""
    with hosts.on_site(tenant, base_url):
        return invite(tenant, email, Role.ADMIN, actor=None)


def pending_invitations() -> list[Invitation]:
    """The current tenant's invitations not used yet and not expired, newest first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc())))


def find_invitation(invitation_id: uuid.UUID) -> Invitation | None:
    """One of the current tenant's invitations (another tenant's is not found)."""
    return db.session.scalars(select(Invitation).where(Invitation.id == invitation_id)).one_or_none()


def revoke(invitation: Invitation) -> None:
    """Withdraw an invitation: its link stops working at once."""
    email, role = invitation.email, invitation.role.value
    db.session.delete(invitation)
    db.session.flush()
    record("member.invitation_revoke", email, role=role)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _refuse_spent(used_at: datetime | None, expires_at: datetime) -> None:
    """Refuse a link used already or expired: it is gone."""
    if used_at is not None or _aware(expires_at) <= utcnow():
        raise LinkUnusable(gone=True)


def _use_once(mark_used) -> None:
    """Mark a link used; when the update finds it used already, another request used it a moment earlier."""
    if db.session.execute(mark_used).rowcount != 1:
        raise LinkUnusable(gone=True)


def usable_invitation(token: str) -> Invitation:
    """The current tenant's invitation this token opens; raises ``LinkUnusable`` otherwise
    (another tenant's token is simply not found)."""
    invitation = db.session.scalars(select(Invitation).where(Invitation.token_hash == _hash(token))).one_or_none()
    if invitation is None:
        raise LinkUnusable(gone=False)
    _refuse_spent(invitation.accepted_at, invitation.expires_at)
    return invitation


def accept_invitation(token: str) -> Member:
    """Use an invitation once: its invitee becomes a member (created if new) with the invited role.

    An admin invited as a viewer stays an admin. Raises ``LinkUnusable`` as ``usable_invitation``,
    also when someone else used the same link a moment earlier.
    """
    invitation = usable_invitation(token)
    _use_once(update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
              .values(accepted_at=utcnow()))
    member = members.find_or_create_member(invitation.email)
    if member.role is not Role.ADMIN and member.role is not invitation.role:
        member.role = invitation.role
        member.end_sessions()
    db.session.flush()
    record("member.invitation_accept", invitation.email, role=member.role.value)
    return member


def ask_for_sign_in_link(tenant: Tenant, email: str, language: str) -> None:
    """Queue a sign-in link to ``email``, made by the mail worker (``compose_sign_in_link``).

    The request writes the same one outbox row for any address and looks nothing up, so neither its answer
    nor the time it takes tells whether the address is a member's. The link is for the host it was asked on.
    """
    mail.queue_job(SIGN_IN_LINK_JOB, email, {"tenant_id": tenant.id, "email": email, "language": language,
                                             "base_url": request.host_url})


def compose_sign_in_link(asked: dict) -> EmailMessage | None:
    """The mail worker's half of ``ask_for_sign_in_link``: a member's mail with a single-use link to their own
    page, valid for an hour; None (no mail at all, so the form cannot send mail to any address) when the
    address is no member's. Only a hash of the token is stored with the link; the mail holds the one copy, in
    the outbox until it is sent (then its text is deleted)."""
    tenant = db.session.get(Tenant, asked["tenant_id"])
    if tenant is None:
        return None
    with hosts.on_site(tenant, asked["base_url"]):
        member = db.session.scalars(select(Member).where(
            Member.email_canonical == members.canonical_email(asked["email"]))).one_or_none()
        if member is None:
            return None
        db.session.execute(delete(SignInLink).where(SignInLink.expires_at < utcnow()))
        token = secrets.token_urlsafe(32)
        db.session.add(SignInLink(token_hash=_hash(token), member_id=member.id,
                                  expires_at=utcnow() + SIGN_IN_LINK_LIFETIME))
        db.session.flush()
        with force_locale(asked["language"]):
            subject = (_("Your HeForShe commitment") if tenant.is_movement
                       else _("Your HeForShe commitment at %(name)s", name=tenant.name))
            body = render_template("tenant_portal/members/sign_in_mail.txt", tenant=tenant,
                                   link=url_for("me.sign_in", link_token=token, _external=True))
        return mail.build(member.email, subject, body, sender_name=tenant.name)


def usable_sign_in_link(token: str) -> SignInLink:
    """The current tenant's sign-in link this token opens, not used and under an hour old.

    Raises ``LinkUnusable``: gone once used or expired; not found when unknown, another tenant's or its
    member's removed.
    """
    link = db.session.get(SignInLink, (current_tenant_id(), _hash(token)))
    if link is None or find_member(link.member_id) is None:
        raise LinkUnusable(gone=False)
    _refuse_spent(link.used_at, link.expires_at)
    return link


def use_sign_in_link(token: str) -> Member:
    """Use a sign-in link once: returns its member. Raises ``LinkUnusable`` as ``usable_sign_in_link``, also
    when the same link was used a moment earlier in another request."""
    link = usable_sign_in_link(token)
    _use_once(update(SignInLink).where(SignInLink.token_hash == link.token_hash, SignInLink.used_at.is_(None))
              .values(used_at=utcnow()))
    return find_member(link.member_id)


def own_commitment(member: Member) -> Commitment | None:
    """The member's commitment (standing or withdrawn), if they ever made one."""
    return db.session.scalars(select(Commitment).where(Commitment.member_id == member.id)).one_or_none()


def commitment_export(member: Member) -> dict:
    """Everything kept about the member and their commitment, for their own download (recorded)."""
    commitment = own_commitment(member)
    data = {"email": member.email, "name": member.display_name, "role": member.role.value,
            "member_since": member.created_at.isoformat(), "commitment": None}
    if commitment is not None:
        unit, department = commitment.unit, commitment.department
        data["commitment"] = {
            "made_at": commitment.created_at.isoformat(),
            "withdrawn_at": commitment.withdrawn_at.isoformat() if commitment.withdrawn_at else None,
            "gender": commitment.gender.value, "gender_description": commitment.gender_description,
            "country": commitment.country_code, "city": commitment.city, "unit": unit.name if unit else None,
            "department": department.name if department else None,
            "language": commitment.language, "name_public": commitment.name_public,
            "verified": commitment.verified, "source": commitment.source.value,
            "consent_version": commitment.consent_version,
        }
    record("member.own_download", member.email)
    return data


def withdraw_own(member: Member) -> bool:
    """The member withdraws their own commitment; False if there was none standing."""
    commitment = own_commitment(member)
    if commitment is None or not signups.withdraw(commitment):
        return False
    record("member.own_withdraw", member.email)
    return True
