"""Sign-up and withdrawal: a person's commitment made, withdrawn and made again, each moving the counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from uuid6 import uuid7

from core.database import insert_new
from core.extensions import db
from core.rollup import services as rollup
from core.rollup.models import Gender, Source
from core.tenancy import current_tenant_id
from tenants.models import Commitment, Member, utcnow
from tenants.services.members import find_or_create_member_id


@dataclass
class SignUp:
    """What a person gives when committing."""

    email: str
    gender: Gender
    country_code: str
    language: str
    consent_version: str
    name: str | None = None
    name_public: bool = False
    gender_description: str | None = None
    city: str | None = None
    place_id: int | None = None
    unit_id: uuid.UUID | None = None
    source: Source = Source.WEB
    verified: bool = False
    created_at: datetime | None = None
    # Where it came from and whether it looks automated (tenants/services/screening.py), for review.
    client_network: str | None = None
    email_domain: str | None = None
    suspect: str | None = None


def commit(signup: SignUp) -> bool:
    """Record a commitment in the current tenant; returns True if it counted, False for a repeat.

    A repeat (the same person, however the address is written) changes nothing; a person who had
    withdrawn and commits again is counted again.
    """
    member_id = find_or_create_member_id(signup.email, signup.name)
    values = dict(
        tenant_id=current_tenant_id(), id=uuid7(), member_id=member_id, gender=signup.gender,
        gender_description=signup.gender_description if signup.gender is Gender.SELF_DESCRIBED else None,
        country_code=signup.country_code, city=signup.city, place_id=signup.place_id, unit_id=signup.unit_id,
        source=signup.source, language=signup.language, consent_version=signup.consent_version,
        name_public=signup.name_public, verified=signup.verified, created_at=signup.created_at or utcnow(),
        client_network=signup.client_network, email_domain=signup.email_domain, suspect=signup.suspect,
    )
    if insert_new(Commitment.__table__, ("tenant_id", "member_id"), values) is None:
        return _recommit(member_id)
    rollup.record(_CountedFacts.from_values(values), +1)
    return True


def _recommit(member_id: uuid.UUID) -> bool:
    row = db.session.execute(
        update(Commitment)
        .where(Commitment.member_id == member_id, Commitment.withdrawn_at.is_not(None))
        .values(withdrawn_at=None)
        .returning(Commitment.gender, Commitment.country_code, Commitment.unit_id, Commitment.place_id,
                   Commitment.created_at, Commitment.source)
    ).one_or_none()
    if row is None:
        return False
    rollup.record(_CountedFacts(*row), +1)
    return True


def withdraw(commitment: Commitment) -> bool:
    """Withdraw a commitment and lower the counts; False if it was withdrawn already."""
    row = db.session.execute(
        update(Commitment)
        .where(Commitment.id == commitment.id, Commitment.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow())
        .returning(Commitment.gender, Commitment.country_code, Commitment.unit_id, Commitment.place_id,
                   Commitment.created_at, Commitment.source)
    ).one_or_none()
    if row is None:
        return False
    rollup.record(_CountedFacts(*row), -1)
    db.session.expire(commitment)
    return True


@dataclass(frozen=True)
class _CountedFacts:
    gender: Gender
    country_code: str
    unit_id: uuid.UUID | None
    place_id: int | None
    created_at: datetime
    source: Source

    @classmethod
    def from_values(cls, values: dict) -> "_CountedFacts":
        return cls(values["gender"], values["country_code"], values["unit_id"], values["place_id"],
                   values["created_at"], values["source"])


def has_committed(member: Member) -> bool:
    """Whether this member's commitment stands (made and not withdrawn)."""
    return db.session.scalar(select(Commitment.id).where(Commitment.member_id == member.id,
                                                         Commitment.withdrawn_at.is_(None))) is not None
