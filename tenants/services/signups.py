"""Commitments made, confirmed, withdrawn, made again, invalidated and restored, each moving the counts once.

Whether a commitment counts is the database's ``counted`` column (the rule: ``tenants.models.COUNTED_RULE``).
Every change to what that column reads goes through ``_transition``, which reads each row's counted state
before and after the change and hands both to ``_move``, the one place that decides what moves in the tallies:
counted -> not counted, -1; not counted -> counted, +1; counted, unverified -> verified, one more verified.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, insert, select, update
from sqlalchemy.dialects import postgresql
from uuid6 import uuid7

from core.database import insert_new
from core.extensions import db
from core.rollup import services as rollup
from core.rollup.models import Gender, Source
from core.tenancy import current_tenant_id, reviewed_sql
from tenants.models import Commitment, EmailConfirmation, Member, Role, Tenant, Unit, utcnow
from tenants.services.members import canonical_email, find_or_create_member_id
from tenants.webhooks import services as webhooks

#: Where a commitment comes in with nobody to vouch for its address: confirmed by mail, when the tenant asks.
CONFIRMED_BY_MAIL = frozenset({Source.WEB})


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
    # Where they work or study (an office, site or campus) and their department or faculty (``unit_fields``).
    unit_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    source: Source = Source.WEB
    verified: bool = False
    created_at: datetime | None = None
    # Sent by another system (the API): when its own form took the person's consent, and its id for them.
    consented_at: datetime | None = None
    external_id: str | None = None
    # Where it came from and whether it looks automated (tenants/services/screening.py), for review.
    client_network: str | None = None
    email_domain: str | None = None
    suspect: str | None = None
    # The pillar they commit to (``tenants.actions.vocabulary.PILLARS``), where the form asked and they chose.
    pillar: str | None = None
    # Set by ``commit`` when it made the commitment (new, or made again): its id, so nobody needs to ask for it.
    commitment_id: uuid.UUID | None = None


def unit_fields(unit: Unit | None) -> dict:
    """The ``SignUp`` fields for the one unit another way in names (a sign-in, the API, a course registration): a
    department or faculty is the person's department, any other unit where they work or study."""
    if unit is None:
        return {}
    return {"department_id": unit.id} if unit.kind.is_department else {"unit_id": unit.id}


def email_confirmation() -> EmailConfirmation:
    """The current tenant's email confirmation setting (in a request, from the tenant the host named: no query)."""
    return db.session.get(Tenant, current_tenant_id()).email_confirmation


def asks_for_confirmation(source: Source, verified: bool) -> bool:
    """Whether a commitment that comes in this way is asked to confirm its address by mail (in the current tenant)."""
    return source in CONFIRMED_BY_MAIL and not verified and email_confirmation() is not EmailConfirmation.OFF


def _awaits_confirmation(source: Source, verified: bool) -> bool:
    return source in CONFIRMED_BY_MAIL and not verified and email_confirmation() is EmailConfirmation.REQUIRED


def commit(signup: SignUp) -> bool:
    """Record a commitment in the current tenant; True for a new one (or one made again after a withdrawal),
    False for a repeat.

    A repeat (the same person, however the address is written) changes nothing. A new commitment counts at once,
    unless it came by the web form, unverified, to a tenant that requires a confirmation by mail: it then counts
    once confirmed (``confirm``).
    """
    if signup.email is None:
        return _commit_without_person(signup)
    canonical = canonical_email(signup.email)
    values = _values(signup, member_id=None, awaiting_confirmation=_awaits_confirmation(signup.source,
                                                                                        signup.verified),
                     person_key=rollup.person_key(canonical), client_network=signup.client_network,
                     email_domain=signup.email_domain, suspect=signup.suspect)
    if db.session.get_bind().dialect.name == "postgresql" and _newcomer_postgresql(signup, canonical, values):
        signup.commitment_id = values["id"]
        return True
    values["member_id"] = member_id = find_or_create_member_id(signup.email, signup.name)
    counted = insert_new(Commitment.__table__, ("tenant_id", "member_id"), values, returning="counted")
    if counted is None:
        return _recommit(member_id, values["person_key"], signup)
    _move(_CountedFacts.from_values(values), None, _State(counted, values["verified"]))
    webhooks.commitment_created(values, signup.email, signup.name)
    signup.commitment_id = values["id"]
    return True


def _newcomer_postgresql(signup: SignUp, canonical: str, values: dict) -> bool:
    """A newcomer's commitment in one statement, one round trip: their member, the commitment, its counts and its
    webhook messages, as ``commit`` makes them in several. False, with nothing written, when the address is a
    member's already (a repeat, or a return after a withdrawal): ``commit`` then goes its general way."""
    values["member_id"] = uuid7()
    counts = not values["awaiting_confirmation"]
    ctes = [webhooks.commitment_created_with(values, signup.email, signup.name, made="made")]
    if counts:
        ctes.append(rollup.counting_made(_CountedFacts.from_values(values), values["verified"], made="made"))
    made = db.session.execute(_newcomer_statement(tuple(cte for cte, _ in ctes), counts), {
        **{key: value for _, more in ctes for key, value in more.items()},
        "tenant_id": values["tenant_id"], "email": signup.email.strip(), "email_canonical": canonical,
        "display_name": signup.name, "role": Role.MEMBER.value,
        **{f"c_{column}": _plain(values[column]) for column in _NEWCOMER_COLUMNS}}).first()
    if made is None:
        values["member_id"] = None
        return False
    webhooks.unless_sending(made.webhook_ids)
    if counts:
        rollup.announce()
    return True


# Reviewed: binds the current tenant itself (row-level security applies too). The commitment's columns as _values
# gives them; each cast, as a value in a SELECT list takes no type from the column it goes to.
_NEWCOMER_COLUMNS = ("id", "member_id", "gender", "gender_description", "country_code", "city", "place_id", "unit_id",
                     "department_id", "source", "language", "consent_version", "name_public", "verified",
                     "created_at", "consented_at", "external_id", "awaiting_confirmation", "person_key",
                     "client_network", "email_domain", "suspect", "pillar")


@functools.lru_cache(maxsize=4)
def _newcomer_statement(ctes: tuple[str, ...], counts: bool):
    selected = {column: f"CAST(:c_{column} AS {_cast(Commitment.__table__.c[column].type)})"
                for column in _NEWCOMER_COLUMNS}
    selected["member_id"] = "member.id"
    more = ",\n    ".join(ctes)
    counted_person = ", (SELECT count(*) FROM counted_person)" if counts else ""
    return reviewed_sql(f"""
    WITH member AS (
        INSERT INTO members (tenant_id, id, email, email_canonical, display_name, role, created_at)
        VALUES (:tenant_id, :c_member_id, :email, :email_canonical, :display_name, :role, :c_created_at)
        ON CONFLICT (tenant_id, email_canonical) DO NOTHING
        RETURNING id),
    made AS (
        INSERT INTO commitments (tenant_id, {", ".join(_NEWCOMER_COLUMNS)})
        SELECT :tenant_id, {", ".join(selected[column] for column in _NEWCOMER_COLUMNS)}
        FROM member
        RETURNING counted),
    {more}
    SELECT made.counted, (SELECT array_agg(id) FROM webhook_rows) AS webhook_ids{counted_person} FROM made""")


def _cast(column_type) -> str:
    # Text as text, so that the column's own length is checked as in any insert (a cast would cut it short).
    return "TEXT" if isinstance(column_type, String) else column_type.compile(dialect=postgresql.dialect())


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def _values(signup: SignUp, **more) -> dict:
    """A new commitment's row from what the person gave (``more``: the columns that depend on who they are)."""
    return dict(
        tenant_id=current_tenant_id(), id=uuid7(), gender=signup.gender,
        gender_description=signup.gender_description if signup.gender is Gender.SELF_DESCRIBED else None,
        country_code=signup.country_code, city=signup.city, place_id=signup.place_id, unit_id=signup.unit_id,
        department_id=signup.department_id,
        source=signup.source, language=signup.language, consent_version=signup.consent_version,
        name_public=signup.name_public, verified=signup.verified, created_at=signup.created_at or utcnow(),
        consented_at=signup.consented_at, external_id=signup.external_id, pillar=signup.pillar, **more)


def _commit_without_person(signup: SignUp) -> bool:
    """A commitment made under the age of digital consent: counted as any other (unverified), with no member, so no
    email, name or sign-in, and without the free text that could say who made it (a self-description, a city
    that is not a known place). It cannot be recognised if made again, withdrawn or confirmed."""
    values = _values(signup, member_id=None, person_key=None) | dict(
        gender_description=None, city=signup.city if signup.place_id is not None else None, name_public=False,
        verified=False)
    db.session.execute(insert(Commitment.__table__), values)
    _move(_CountedFacts.from_values(values), None, _State(counted=True, verified=False))
    webhooks.commitment_created(values, None, None)
    return True


def _recommit(member_id: uuid.UUID, person_key: bytes, signup: SignUp) -> bool:
    """A withdrawn commitment made again: under the tenant's rule of now, as a new one would be."""
    if _transition(and_(Commitment.member_id == member_id, Commitment.withdrawn_at.is_not(None)),
                   lambda row: dict(withdrawn_at=None, person_key=person_key,
                                    awaiting_confirmation=_awaits_confirmation(row.source, row.verified))) != 1:
        return False
    commitment = db.session.scalars(select(Commitment).where(Commitment.member_id == member_id)).one()
    webhooks.commitment_created({column: getattr(commitment, column) for column in (
        "id", "gender", "country_code", "unit_id", "department_id", "source", "language", "verified", "created_at",
        "city", "gender_description")}, signup.email, signup.name)
    signup.commitment_id = commitment.id
    return True


def withdraw(commitment: Commitment) -> bool:
    """Withdraw a commitment (the counts drop if it counted); False if it was withdrawn already."""
    changed = _transition(and_(Commitment.id == commitment.id, Commitment.withdrawn_at.is_(None)),
                          lambda row: dict(withdrawn_at=utcnow()))
    db.session.expire(commitment)
    if changed != 1:
        return False
    webhooks.commitment_withdrawn(commitment)
    return True


def confirm(commitment: Commitment) -> bool:
    """The person confirmed their address: the commitment is verified, and counts now if it was waiting for it.
    True the first time only."""
    changed = _transition(and_(Commitment.id == commitment.id, Commitment.confirmed_at.is_(None)),
                          lambda row: dict(confirmed_at=utcnow(), verified=True, awaiting_confirmation=False))
    db.session.expire(commitment)
    return changed == 1


def set_invalidated(commitments: Iterable[Commitment], invalidated: bool) -> int:
    """Mark the current tenant's ``commitments`` invalidated (found to be abuse: they stop counting) or restore
    them (``invalidated`` False: they count again, if nothing else keeps them out). Rows are kept, never deleted;
    those already so are left alone. Returns how many changed."""
    commitments = list(commitments)
    state = Commitment.invalidated_at.is_(None) if invalidated else Commitment.invalidated_at.is_not(None)
    changed = _transition(and_(Commitment.id.in_([c.id for c in commitments]), state),
                          lambda row: dict(invalidated_at=utcnow() if invalidated else None))
    for commitment in commitments:
        if commitment in db.session:
            db.session.expire(commitment)
    return changed


@dataclass(frozen=True)
class _State:
    counted: bool
    verified: bool


@dataclass(frozen=True)
class _CountedFacts:
    gender: Gender
    country_code: str
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    place_id: int | None
    created_at: datetime
    source: Source
    person_key: bytes | None
    pillar: str | None
    acted: bool

    @classmethod
    def from_values(cls, values: dict) -> _CountedFacts:
        return cls(values["gender"], values["country_code"], values["unit_id"], values["department_id"],
                   values["place_id"], values["created_at"], values["source"], values["person_key"],
                   values["pillar"], False)

    @classmethod
    def from_row(cls, row) -> _CountedFacts:
        """From the columns ``_FACTS`` names, in that order (the last: when the person first acted)."""
        return cls(*row[:-1], row[-1] is not None)


_FACTS = (Commitment.gender, Commitment.country_code, Commitment.unit_id, Commitment.department_id,
          Commitment.place_id, Commitment.created_at, Commitment.source, Commitment.person_key, Commitment.pillar,
          Commitment.acted_at)


def _transition(where, change: Callable[..., dict]) -> int:
    """Change each of the current tenant's commitments ``where`` names to ``change(row)`` (the row has its
    ``source`` and ``verified``), and move the counts by what that did to it. Returns how many rows changed.

    The rows are locked first (on PostgreSQL), so two requests changing one commitment at once take turns, and
    the second sees the first's change (and ``where`` may no longer hold for it).
    """
    rows = db.session.execute(select(Commitment.id, Commitment.counted, Commitment.verified, Commitment.source)
                              .where(where).order_by(Commitment.id).with_for_update()).all()
    for row in rows:
        after = db.session.execute(
            update(Commitment).where(Commitment.id == row.id).values(**change(row))
            .returning(Commitment.counted, Commitment.verified, *_FACTS)
            .execution_options(synchronize_session=False)).one()
        _move(_CountedFacts.from_row(after[2:]), _State(row.counted, row.verified),
              _State(after.counted, after.verified))
    return len(rows)


def _move(facts: _CountedFacts, before: _State | None, after: _State) -> None:
    """What a commitment's change (``before`` None: it is new) does to the counts: the one place that decides."""
    was_counted = before is not None and before.counted
    if was_counted and after.counted:
        if after.verified and not before.verified:
            rollup.record_verified(facts)
    elif after.counted:
        rollup.record(facts, +1, verified=after.verified)
    elif was_counted:
        rollup.record(facts, -1, verified=before.verified)


def mark_acted(commitment_id: uuid.UUID) -> bool:
    """The person of one of the current tenant's commitments did an action they planned, for the first time: it
    counts among those who acted from now on (at once, if it counts). False when they had acted before."""
    after = db.session.execute(
        update(Commitment).where(Commitment.id == commitment_id, Commitment.acted_at.is_(None))
        .values(acted_at=utcnow()).returning(Commitment.counted, Commitment.verified, *_FACTS)
        .execution_options(synchronize_session=False)).one_or_none()
    if after is None:
        return False
    if after.counted:
        rollup.record_acted(_CountedFacts.from_row(after[2:]), after.verified)
    return True


def rekey_people() -> int:
    """Give each of the current tenant's commitments the person key of its member's address under the current
    ``PEOPLE_PEPPER``; returns how many changed. ``people`` and the global tallies must then be rebuilt from the
    commitments in the same transaction (``flask people rekey`` does both)."""
    changes = [{"tenant_id": current_tenant_id(), "id": commitment_id, "person_key": new_key}
               for commitment_id, old_key, email in db.session.execute(
                   select(Commitment.id, Commitment.person_key, Member.email)
                   .join(Member, Member.id == Commitment.member_id))
               if (new_key := rollup.person_key(canonical_email(email))) != old_key]
    if changes:
        db.session.execute(update(Commitment).execution_options(synchronize_session=None), changes)
    return len(changes)


def has_committed(member: Member) -> bool:
    """Whether this member's commitment stands (made and not withdrawn)."""
    return db.session.scalar(select(Commitment.id).where(Commitment.member_id == member.id,
                                                         Commitment.withdrawn_at.is_(None))) is not None
