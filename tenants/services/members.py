"""Members and identity: the one form a mail address is compared in, and the member behind an address."""

from __future__ import annotations

import unicodedata
import uuid

import idna
from sqlalchemy import select
from uuid6 import uuid7

from core.database import insert_new
from core.extensions import db
from core.tenancy import current_tenant_id
from tenants.models import Member, Role, utcnow

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def fold_domain(domain: str) -> str:
    """A mail domain in the one form it is compared in: compatibility forms folded (NFKC: fullwidth
    ``ｅxample.org`` is ``example.org``), lower case, no final dot, and international names as IDNA
    A-labels (``bücher.example`` and ``xn--bcher-kva.example`` are one domain)."""
    domain = unicodedata.normalize("NFKC", domain).strip().lower().rstrip(".")
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain  # no valid name (the forms refuse it): compared folded, as written


def email_domain(email: str) -> str:
    """The domain of an address, folded as ``fold_domain``: what allowed domains and discovery compare."""
    return fold_domain(unicodedata.normalize("NFKC", email).rpartition("@")[2])


def canonical_email(email: str) -> str:
    """The form of an address used to recognise a person: compatibility forms folded (NFKC), lower case,
    the domain as ``fold_domain``; Gmail's dots and +tags folded. Look-alike spellings of one address
    (``sam@ｅxample.org``) are one person."""
    local, _, domain = unicodedata.normalize("NFKC", email.strip()).lower().rpartition("@")
    domain = fold_domain(domain)
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def refold_member_keys() -> tuple[int, list[list[Member]]]:
    """Recompute the current tenant's members' canonical keys from their addresses, after the folding changed.

    Returns how many keys changed, and the groups of members whose addresses now fold to one key (stored
    twice before the folding knew them alike): those keep their old keys, for an admin to keep one of them.
    """
    holders: dict[str, list[Member]] = {}
    for member in db.session.scalars(select(Member).order_by(Member.created_at, Member.id)):
        holders.setdefault(canonical_email(member.email), []).append(member)
    changed, clashes = 0, []
    for key, group in holders.items():
        if len(group) > 1:
            clashes.append(group)
        elif group[0].email_canonical != key:
            group[0].email_canonical = key
            changed += 1
    db.session.flush()
    return changed, clashes


def find_or_create_member(email: str, display_name: str | None = None) -> Member:
    """The current tenant's member with this address, created if new (safe under concurrent sign-ups)."""
    member_id = find_or_create_member_id(email, display_name)
    return db.session.scalars(select(Member).where(Member.id == member_id)).one()


def find_or_create_member_id(email: str, display_name: str | None = None) -> uuid.UUID:
    """The id of the current tenant's member with this address, created if new: one statement for a newcomer."""
    canonical = canonical_email(email)
    new_id = insert_new(Member.__table__, ("tenant_id", "email_canonical"), dict(
        tenant_id=current_tenant_id(), id=uuid7(), email=email.strip(), email_canonical=canonical,
        display_name=display_name, role=Role.MEMBER, created_at=utcnow()))
    if new_id is not None:
        return new_id
    return db.session.scalar(select(Member.id).where(Member.email_canonical == canonical))
