"""Sign-up and withdrawal: a person's commitment made, withdrawn and made again, each moving the counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
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
    """What a person gives when committing. No email: a person under the age of digital consent, whose
    commitment is kept without anything about them (``commit``)."""

    email: str | None
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


def commit(signup: SignUp) -> bool:
    """Record a commitment in the current tenant; returns True if it counted, False for a repeat.

    A repeat (the same person, however the address is written) changes nothing; a person who had
    withdrawn and commits again is counted again.
    """
    if signup.email is None:
        return _commit_without_person(signup)
    member_id = find_or_create_member_id(signup.email, signup.name)
    values = dict(
        tenant_id=current_tenant_id(), id=uuid7(), member_id=member_id, gender=signup.gender,
        gender_description=signup.gender_description if signup.gender is Gender.SELF_DESCRIBED else None,
        country_code=signup.country_code, city=signup.city, place_id=signup.place_id, unit_id=signup.unit_id,
        source=signup.source, language=signup.language, consent_version=signup.consent_version,
        name_public=signup.name_public, verified=signup.verified, created_at=signup.created_at or utcnow(),
    )
    if insert_new(Commitment.__table__, ("tenant_id", "member_id"), values) is None:
        return _recommit(member_id)
    rollup.record(_CountedFacts.from_values(values), +1)
    return True


def _commit_without_person(signup: SignUp) -> bool:
    """A commitment made under the age of digital consent: counted as any other (unverified), with no member, so no
    email, name or sign-in, and without the free text that could say who made it (a self-description, a city
    that is not a known place). It cannot be recognised if made again, withdrawn or confirmed."""
    values = dict(
        tenant_id=current_tenant_id(), id=uuid7(), member_id=None, gender=signup.gender, gender_description=None,
        country_code=signup.country_code, city=signup.city if signup.place_id is not None else None,
        place_id=signup.place_id, unit_id=signup.unit_id, source=signup.source, language=signup.language,
        consent_version=signup.consent_version, name_public=False, verified=False,
        created_at=signup.created_at or utcnow(),
    )
    db.session.execute(insert(Commitment.__table__), values)
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
