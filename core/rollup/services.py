"""Writing and reading the counts: ``record`` one counted change, read them back as ``Counts``."""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple

from flask import current_app
from sqlalchemy import DateTime, LargeBinary, bindparam, func, select

from core import live
from core.extensions import db
from core.rollup.models import Gender, GlobalTally, Source, TenantTally
from core.tenancy import current_tenant_id, reviewed_sql

Key = tuple[str, str]

#: Every dimension each tally table keeps. ``pillar``: what people committed to, where they chose; ``acted``,
#: ``acted_pillar``, ``acted_unit``: the people who did an action they planned (each person once in each).
ALL_TENANT_DIMENSIONS = ("acted", "acted_pillar", "acted_unit", "country", "day", "gender", "pillar", "place",
                         "source", "unit", "unit_country", "unit_day")
#: The one key of the ``acted`` dimension: everyone who acted.
ACTED_KEY = "all"
ALL_GLOBAL_DIMENSIONS = ("country", "day", "gender", "tenant")


def as_utc(moment: datetime) -> datetime:
    """A stored moment in UTC, with its time zone."""
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def day_key(moment: datetime) -> str:
    """The ``day`` tally key of a moment: its date in UTC, YYYY-MM-DD."""
    return as_utc(moment).date().isoformat()


def tenant_keys(gender: Gender, country_code: str, unit_ids: Iterable, place_id: int | None,
                created_at: datetime, source: Source, pillar: str | None = None, acted: bool = False) -> list[Key]:
    """The tenant tally keys one commitment counts under: it counts in each of its units (``unit_ids``, None
    where it names none: an office and a department, say), in its pillar where it has one, and, once its person
    did an action (``acted``), among those who acted."""
    keys = [("country", country_code), ("day", day_key(created_at)), ("gender", gender.value),
            ("source", source.value)]
    for unit_id in unit_ids:
        if unit_id is not None:
            keys += [("unit", str(unit_id)), ("unit_country", f"{unit_id}:{country_code}"),
                     ("unit_day", f"{unit_id}:{day_key(created_at)}")]
    if place_id is not None:
        keys.append(("place", str(place_id)))
    if pillar is not None:
        keys.append(("pillar", pillar))
    if acted:
        keys += acted_keys(unit_ids, pillar)
    return keys


def acted_keys(unit_ids: Iterable, pillar: str | None) -> list[Key]:
    """The keys a commitment counts under once its person did an action: everyone who acted, by pillar, by unit."""
    keys = [("acted", ACTED_KEY)] + [("acted_unit", str(unit_id)) for unit_id in unit_ids if unit_id is not None]
    return keys + ([("acted_pillar", pillar)] if pillar is not None else [])


def people_keys(gender: str, country_code: str, day: str) -> list[Key]:
    """The global tally keys a person counts under (besides each of their partners' ``tenant`` key)."""
    return [("country", country_code), ("day", day), ("gender", gender)]


# Raw SQL, reviewed: each binds the current tenant itself (:tenant_id).
# PostgreSQL: both tables (and the person) in one statement, one round trip, built once. Rows are written in a
# fixed order (ORDER BY), so two sign-ups lock the tally rows they share in the same order and cannot deadlock.
# The app role may write neither the global tallies nor ``people`` itself: add_to_global_tallies() (migration 0017)
# keeps both for it, from one commitment's change.
_TENANT_ROWS_POSTGRESQL = """
        INSERT INTO tenant_tallies AS t (tenant_id, dimension, key, shard, total, men, verified, verified_men,
                                         updated_at)
        SELECT :tenant_id, dimension, key, :shard, :delta, :men, :delta_verified, :verified_men, :now
        FROM unnest(CAST(:tenant_dimensions AS text[]), CAST(:tenant_keys AS text[])) AS added(dimension, key)
        {where}
        ORDER BY dimension, key
        ON CONFLICT (tenant_id, dimension, key, shard) DO UPDATE
        SET total = t.total + excluded.total, men = t.men + excluded.men, verified = t.verified + excluded.verified,
            verified_men = t.verified_men + excluded.verified_men, updated_at = excluded.updated_at"""
_ADD_TO_GLOBAL_TALLIES = """add_to_global_tallies(CAST(:person AS bytea), :gender, :country, :day, :shard, :delta,
                                 :delta_verified, :now)"""
_TYPES = (bindparam("now", type_=DateTime(timezone=True)), bindparam("person", type_=LargeBinary))
_RECORD_POSTGRESQL = reviewed_sql(f"""
    WITH tenant_rows AS ({_TENANT_ROWS_POSTGRESQL.format(where="")})
    SELECT {_ADD_TO_GLOBAL_TALLIES}
""").bindparams(*_TYPES)


def counting_made(facts, verified: bool, made: str) -> tuple[str, dict]:
    """What ``record(facts, +1, verified)`` does, as part of the one PostgreSQL statement that makes the commitment
    (``tenants/services/signups.py``): CTEs for its WITH, which count it only if its CTE ``made`` gives a row,
    and their values. The statement must select ``(SELECT count(*) FROM counted_person)``, or the people's part is
    never run; the caller announces the change once the statement made it (``announce``)."""
    ctes = (f"counted_tenant_rows AS ({_TENANT_ROWS_POSTGRESQL.format(where=f'WHERE EXISTS (SELECT FROM {made})')}),"
            f"\n    counted_person AS (SELECT {_ADD_TO_GLOBAL_TALLIES} FROM {made})")
    return ctes, _values(facts, +1, +1 if verified else 0)


# SQLite (the embedded run and the tests) has no data-modifying WITH and no functions: the same work in a few
# statements (SQLite has one writer at a time, so nothing runs in between).
_TALLY_SET = """SET total = total + excluded.total, men = men + excluded.men, verified = verified + excluded.verified,
        verified_men = verified_men + excluded.verified_men, updated_at = excluded.updated_at"""
_RECORD_SQLITE_GLOBAL = reviewed_sql(f"""
    INSERT INTO global_tallies (dimension, key, shard, total, men, verified, verified_men, updated_at)
    VALUES (:dimension, :key, :shard, :delta, :men, :delta_verified, :verified_men, :now)
    ON CONFLICT (dimension, key, shard) DO UPDATE {_TALLY_SET}
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))
# As add_to_global_tallies() does it: one statement, which gives the person's new counts and the facts they
# count under (this commitment's when they start counting; else the ones they were counted under).
_RECORD_SQLITE_PERSON = reviewed_sql("""
    INSERT INTO people (person_key, commitments, verified_commitments, gender, country_code, day, updated_at)
    VALUES (:person, :delta, :delta_verified, :gender, :country, :day, :now)
    ON CONFLICT (person_key) DO UPDATE
    SET commitments = commitments + excluded.commitments,
        verified_commitments = verified_commitments + excluded.verified_commitments,
        gender = CASE WHEN commitments > 0 THEN gender ELSE excluded.gender END,
        country_code = CASE WHEN commitments > 0 THEN country_code ELSE excluded.country_code END,
        day = CASE WHEN commitments > 0 THEN day ELSE excluded.day END,
        updated_at = excluded.updated_at
    RETURNING commitments, verified_commitments, gender, country_code, day
""").bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("person", type_=LargeBinary))

# The tenant's tallies alone (SQLite's part of ``record``; ``record_acted`` on either database): columns named with
# their table, as PostgreSQL asks in ON CONFLICT.
_RECORD_TENANT_ONLY = reviewed_sql("""
    INSERT INTO tenant_tallies (tenant_id, dimension, key, shard, total, men, verified, verified_men, updated_at)
    VALUES (:tenant_id, :dimension, :key, :shard, :delta, :men, :delta_verified, :verified_men, :now)
    ON CONFLICT (tenant_id, dimension, key, shard) DO UPDATE
    SET total = tenant_tallies.total + excluded.total, men = tenant_tallies.men + excluded.men,
        verified = tenant_tallies.verified + excluded.verified,
        verified_men = tenant_tallies.verified_men + excluded.verified_men, updated_at = excluded.updated_at
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))


def person_key(canonical_address: str) -> bytes:
    """The key a person is known by across tenants: ``HMAC-SHA256(PEOPLE_PEPPER, canonical address)``, 32 bytes.

    Without ``PEOPLE_PEPPER`` (the embedded run; production refuses to start) the pepper is derived from
    ``SECRET_KEY``.
    """
    return hmac.new(pepper(current_app.config), canonical_address.encode(), hashlib.sha256).digest()


def pepper(config) -> bytes:
    """The pepper of ``person_key`` from a configuration: ``PEOPLE_PEPPER``, else one derived from ``SECRET_KEY``."""
    if config["PEOPLE_PEPPER"]:
        return config["PEOPLE_PEPPER"].encode()
    return hmac.new(config["SECRET_KEY"].encode(), b"people pepper", hashlib.sha256).digest()


def record(facts, delta: int, verified: bool = False) -> None:
    """One commitment of the current tenant starts (``delta`` +1) or stops (-1) counting; ``verified`` says whether
    it counts as verified. ``facts`` has gender, country_code, unit_id, department_id, place_id, created_at,
    source, pillar, acted and person_key (None: a person of its own). Its person is added to (or taken from) the
    global tallies only when they start (or stop) counting anywhere. Open live pages hear of it once committed."""
    _add(facts, delta, delta if verified else 0)


def record_verified(facts) -> None:
    """A counted, unverified commitment of the current tenant becomes verified: its counts stay, their verified
    parts grow by one (and its person's, the first time one of their counted commitments is verified)."""
    _add(facts, 0, 1)


def record_acted(facts, verified: bool) -> None:
    """The person of a counted commitment of the current tenant did their first action: the commitment now counts
    among those who acted too (nothing else moves: they were counted already)."""
    man = facts.gender is Gender.MAN
    common = dict(tenant_id=current_tenant_id(), shard=random.randrange(current_app.config["ROLLUP_SHARDS"]),
                  delta=1, men=int(man), delta_verified=int(verified), verified_men=int(man and verified),
                  now=datetime.now(timezone.utc))
    # The same upsert runs on both databases; keys in a fixed order, so two writers cannot deadlock.
    db.session.execute(_RECORD_TENANT_ONLY, [dict(common, dimension=d, key=k) for d, k in
                                               sorted(acted_keys((facts.unit_id, facts.department_id), facts.pillar))])


def _add(facts, delta: int, delta_verified: int) -> None:
    values = _values(facts, delta, delta_verified)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_RECORD_POSTGRESQL, values)
    else:
        tenant = list(zip(values["tenant_dimensions"], values["tenant_keys"]))
        db.session.execute(_RECORD_TENANT_ONLY, [dict(values, dimension=d, key=k) for d, k in tenant])
        db.session.execute(_RECORD_SQLITE_GLOBAL, dict(values, dimension="tenant", key=str(values["tenant_id"])))
        _add_person_sqlite(values, {name: values[name] for name in ("person", "gender", "country", "day")})
    announce()


def _values(facts, delta: int, delta_verified: int) -> dict:
    """The values of the statements that count one commitment's change: the tenant's keys, the person, a shard."""
    man = facts.gender is Gender.MAN
    tenant = tenant_keys(facts.gender, facts.country_code, (facts.unit_id, facts.department_id), facts.place_id,
                         facts.created_at, facts.source, facts.pillar, facts.acted)
    return dict(tenant_id=current_tenant_id(), shard=random.randrange(current_app.config["ROLLUP_SHARDS"]),
                delta=delta, men=delta if man else 0, delta_verified=delta_verified,
                verified_men=delta_verified if man else 0, now=datetime.now(timezone.utc),
                person=facts.person_key, gender=facts.gender.value, country=facts.country_code,
                day=day_key(facts.created_at),
                tenant_dimensions=[d for d, _ in tenant], tenant_keys=[k for _, k in tenant])


def announce() -> None:
    """Open live pages (the current tenant's and the global ones) hear of a counted change once it is committed."""
    live.note_changed(db.session(), live.channel_for(None), live.channel_for(current_tenant_id()))


def _add_person_sqlite(common: dict, person: dict) -> None:
    """The people half of add_to_global_tallies(), for SQLite."""
    delta, delta_verified = common["delta"], common["delta_verified"]
    if person["person"] is not None:
        standing, verified, gender, country, day = db.session.execute(
            _RECORD_SQLITE_PERSON, dict(common, **person)).one()
        person = dict(person, gender=gender, country=country, day=day)
        was_standing, was_verified = standing - delta, verified - delta_verified
        delta = (standing > 0) - (was_standing > 0)
        delta_verified = (standing > 0 and verified > 0) - (was_standing > 0 and was_verified > 0)
    if delta or delta_verified:
        man = person["gender"] == Gender.MAN.value
        changed = dict(common, delta=delta, men=delta if man else 0, delta_verified=delta_verified,
                       verified_men=delta_verified if man else 0)
        db.session.execute(_RECORD_SQLITE_GLOBAL, [
            dict(changed, dimension=dimension, key=key)
            for dimension, key in people_keys(person["gender"], person["country"], person["day"])])


class Figures(NamedTuple):
    """One key's counts: everyone, the men among them, and how many of each are verified."""

    total: int
    men: int
    verified: int
    verified_men: int


NOTHING = Figures(0, 0, 0, 0)


@dataclass
class Counts:
    """Figures by tally key, and when they last changed.

    The tenant tallies count commitments; the global ones count people (by country, gender and day), and each
    partner's commitments (``tenant``).
    """

    by_key: dict[Key, Figures]
    updated_at: datetime | None
    #: Where ``by_key`` is a released copy (``steps.py``): the live total, which moves by one while the
    #: breakdowns move in steps.
    live_total: int | None = None
    released_at: datetime | None = None  # when that copy was released
    verified_released_at: datetime | None = None  # when its verified figures were (the same copy or an earlier one)

    def dimension(self, name: str) -> dict[str, dict[str, int]]:
        """``{key: {"total", "men", "verified", "verified_men"}}`` for one dimension, leaving out keys that sum to
        nothing. Unverified = total - verified."""
        return {key: figures._asdict()
                for (dimension, key), figures in sorted(self.by_key.items())
                if dimension == name and figures.total}

    def summed(self, name: str) -> Figures:
        """One dimension's figures added up over its keys (``gender``: everyone; on the global tallies, ``tenant``:
        every partner's commitments)."""
        return Figures(*map(sum, zip(NOTHING, *(figures for (dimension, _), figures in self.by_key.items()
                                                if dimension == name))))

    @property
    def total(self) -> int:
        return self.summed("gender").total if self.live_total is None else self.live_total

    @property
    def behind(self) -> bool:
        """Whether the live total has moved on since the breakdowns (the men among them) were released."""
        return self.live_total is not None and self.live_total != self.summed("gender").total

    @property
    def verified(self) -> int:
        return self.summed("gender").verified

    @property
    def men(self) -> int:
        return self.by_key.get(("gender", Gender.MAN.value), NOTHING).total

    @property
    def verified_men(self) -> int:
        return self.by_key.get(("gender", Gender.MAN.value), NOTHING).verified


def read(model, dimensions: Iterable[str]) -> Counts:
    """The counts of one tally table (summed over shards) for the given dimensions."""
    rows = db.session.execute(
        select(model.dimension, model.key, func.sum(model.total), func.sum(model.men), func.sum(model.verified),
               func.sum(model.verified_men), func.max(model.updated_at))
        .where(model.dimension.in_(list(dimensions)))
        .group_by(model.dimension, model.key)
    ).all()
    updated = [as_utc(row[-1]) for row in rows if row[-1] is not None]
    return Counts({(d, k): Figures(int(t), int(m), int(v), int(vm)) for d, k, t, m, v, vm, _ in rows},
                  max(updated, default=None))


def tenant_counts(dimensions: Iterable[str] = ("gender",)) -> Counts:
    """The current tenant's counts for the given dimensions (just the headline numbers by default)."""
    return read(TenantTally, dimensions)


def global_counts(dimensions: Iterable[str] = ("gender",)) -> Counts:
    """The movement's counts across every tenant for the given dimensions."""
    return read(GlobalTally, dimensions)
