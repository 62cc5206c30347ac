"""Recount: the tallies and the people checked against the commitments they count, and rewritten where they drifted.

The commitments belong to the tenants package, above core; it tells the roll-up where they are once, in its
``init_app``, with ``count_commitments_from(app, Commitments(...))``.

What is expected, from the counted commitments (the same rules ``services.record`` follows as they change):

- each tenant's tallies: its counted commitments, verified or not;
- ``people``: each person's counted commitments, and how many of them are verified (a repair forgets whoever has
  none);
- the global tallies: each partner's counted commitments (``tenant``), and by country, day and gender each
  person with a counted commitment once, verified if one of them is, under the facts they were counted under
  (as ``people`` keeps them; for someone ``people`` did not count, their earliest counted commitment's). A
  commitment without a person key is a person of its own.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Table, delete, select

from core.database import insert, lock_for_recount
from core.extensions import db
from core.rollup.models import Gender, GlobalTally, Person, Source, TenantTally
from core.rollup.services import (ALL_GLOBAL_DIMENSIONS, ALL_TENANT_DIMENSIONS, NOTHING, Figures, day_key,
                                  global_counts, people_keys, tenant_counts, tenant_keys)
from core.tenancy import reviewed_sql, tenant_context


class CountedCommitment(NamedTuple):
    """What the roll-up needs of one counted commitment."""

    id: uuid.UUID
    gender: Gender
    country_code: str
    unit_id: object
    department_id: object
    place_id: int | None
    created_at: datetime
    source: Source
    verified: bool
    person_key: bytes | None
    pillar: str | None
    acted: bool


@dataclass(frozen=True)
class Commitments:
    """Where the counted commitments are, as their owner hands them to the roll-up."""

    table: Table  # held off writers (with the tenant tallies) while a repair rewrites the tallies
    tenants: Callable[[], list[tuple[int, str]]]  # every tenant's id and slug, in the order to recount them
    # The current tenant's counted commitments (fields as CountedCommitment, in that order).
    counted: Callable[[], Iterable[tuple]]


_EXTENSION = "core.rollup.commitments"


def count_commitments_from(app, commitments: Commitments) -> None:
    """Tell the roll-up of ``app`` where the commitments it counts are."""
    app.extensions[_EXTENSION] = commitments


def commitments() -> Commitments:
    """The counted commitments of the current app, as handed in by their owner."""
    return current_app.extensions[_EXTENSION]


class Standing(NamedTuple):
    """A person's counts in ``people``."""

    commitments: int
    verified: int


@dataclass(frozen=True)
class Drift:
    """A tally (or a person's counts) that disagrees with the commitments."""

    scope: str  # "tenant:<slug>", "global" or "people"
    dimension: str
    key: str
    stored: Figures | Standing
    expected: Figures | Standing


class _Tallies(defaultdict):
    """Expected figures by key, added up one counted thing at a time."""

    def __init__(self):
        super().__init__(lambda: NOTHING)

    def add(self, key, man: bool, verified: bool) -> None:
        total, men, verified_total, verified_men = self[key]
        self[key] = Figures(total + 1, men + man, verified_total + verified, verified_men + (man and verified))


@dataclass
class _Person:
    """A person as the commitments show them: how many count, how many are verified, and their earliest."""

    standing: int = 0
    verified: int = 0
    earliest: tuple | None = None  # (created_at, id, gender, country, day)

    def add(self, row: CountedCommitment) -> None:
        self.standing += 1
        self.verified += row.verified
        candidate = (_aware(row.created_at), row.id, row.gender.value, row.country_code, day_key(row.created_at))
        if self.earliest is None or candidate[:2] < self.earliest[:2]:
            self.earliest = candidate


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _compare(scope: str, stored: dict, expected: dict, nothing) -> list[Drift]:
    drifts = []
    for key in sorted(set(stored) | set(expected)):
        have, want = stored.get(key, nothing), expected.get(key, nothing)
        if have != want:
            dimension, name = key if isinstance(key, tuple) else ("person", key.hex())
            drifts.append(Drift(scope, dimension, name, have, want))
    return drifts


def _rewrite(model, expected: dict, **fixed) -> None:
    db.session.execute(delete(model))
    now = datetime.now(timezone.utc)
    rows = [dict(fixed, dimension=d, key=k, shard=0, **figures._asdict(), updated_at=now)
            for (d, k), figures in sorted(expected.items()) if figures.total]
    if rows:
        db.session.execute(model.__table__.insert(), rows)


_REBUILD_GLOBAL_POSTGRESQL = reviewed_sql("SELECT rebuild_global_tallies()")


def recount(repair: bool = False, progress: Callable[[str], None] | None = None) -> list[Drift]:
    """Recount every tenant's tallies, ``people`` and the global tallies from the commitments; list the drift, and
    rewrite what drifted when ``repair`` is set. ``progress`` hears each tenant's slug once done."""
    source = commitments()
    if repair:
        # Every write to the tallies and to people follows one to the commitments, so this holds them all off.
        lock_for_recount(source.table, TenantTally.__table__)
    drifts: list[Drift] = []
    global_expected, people, keyless = _Tallies(), defaultdict(_Person), []
    for tenant_id, slug in source.tenants():
        with tenant_context(tenant_id):
            expected = _Tallies()
            for row in map(CountedCommitment._make, source.counted()):
                man = row.gender is Gender.MAN
                for key in tenant_keys(row.gender, row.country_code, (row.unit_id, row.department_id),
                                       row.place_id, row.created_at, row.source, row.pillar, bool(row.acted)):
                    expected.add(key, man, row.verified)
                global_expected.add(("tenant", str(tenant_id)), man, row.verified)
                if row.person_key is None:
                    keyless.append(row)
                else:
                    people[bytes(row.person_key)].add(row)
            tenant_drift = _compare(f"tenant:{slug}", tenant_counts(ALL_TENANT_DIMENSIONS).by_key, expected, NOTHING)
            if repair and tenant_drift:
                _rewrite(TenantTally, expected, tenant_id=tenant_id)
        drifts += tenant_drift
        if progress:
            progress(slug)
    stored_people = {bytes(p.person_key): p for p in db.session.scalars(select(Person))}
    people_drift = _compare("people", {key: Standing(p.commitments, p.verified_commitments)
                                       for key, p in stored_people.items() if p.commitments or p.verified_commitments},
                            {key: Standing(p.standing, p.verified) for key, p in people.items()}, Standing(0, 0))
    facts = {}
    for key, person in people.items():
        stored = stored_people.get(key)
        facts[key] = ((stored.gender, stored.country_code, stored.day) if stored is not None and stored.commitments > 0
                      else person.earliest[2:])
        for tally_key in people_keys(*facts[key]):
            global_expected.add(tally_key, facts[key][0] == Gender.MAN.value, person.verified > 0)
    for row in keyless:
        for tally_key in people_keys(row.gender.value, row.country_code, day_key(row.created_at)):
            global_expected.add(tally_key, row.gender is Gender.MAN, row.verified)
    global_drift = _compare("global", global_counts(ALL_GLOBAL_DIMENSIONS).by_key, global_expected, NOTHING)
    if repair and (people_drift or global_drift):
        if db.session.get_bind().dialect.name == "postgresql":
            # The app role may write neither; the database rebuilds both from the commitments, by the same rules.
            db.session.execute(_REBUILD_GLOBAL_POSTGRESQL)
        else:
            _rewrite_people(people, stored_people, facts)
            _rewrite(GlobalTally, global_expected)
    return drifts + people_drift + global_drift


def _rewrite_people(people: dict, stored_people: dict, facts: dict) -> None:
    """As rebuild_global_tallies() does on PostgreSQL: who has no counted commitment is forgotten."""
    now = datetime.now(timezone.utc)
    for key in stored_people.keys() - people.keys():
        db.session.delete(stored_people[key])
    rows = [dict(person_key=key, commitments=person.standing, verified_commitments=person.verified,
                 gender=facts[key][0], country_code=facts[key][1], day=facts[key][2], updated_at=now)
            for key, person in people.items()]
    if rows:
        statement = insert(Person.__table__)
        db.session.execute(statement.on_conflict_do_update(index_elements=["person_key"], set_={
            name: statement.excluded[name] for name in ("commitments", "verified_commitments", "gender",
                                                         "country_code", "day", "updated_at")}), rows)
    db.session.flush()
