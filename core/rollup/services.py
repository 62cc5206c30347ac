"""Writing and reading the counts: ``record`` one counted change, read them back as ``Counts``."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import DateTime, bindparam, func, select

from core import live
from core.extensions import db
from core.rollup.models import Gender, GlobalTally, Source, TenantTally
from core.tenancy import current_tenant_id, reviewed_sql

Key = tuple[str, str]


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def tenant_keys(gender: Gender, country_code: str, unit_id, place_id: int | None,
                created_at: datetime, source: Source) -> list[Key]:
    """The tenant tally keys one commitment counts under."""
    keys = [("country", country_code), ("day", _as_utc(created_at).date().isoformat()), ("gender", gender.value),
            ("source", source.value)]
    if unit_id is not None:
        keys += [("unit", str(unit_id)), ("unit_country", f"{unit_id}:{country_code}")]
    if place_id is not None:
        keys.append(("place", str(place_id)))
    return keys


def global_keys(tenant_id: int, gender: Gender, country_code: str, created_at: datetime) -> list[Key]:
    """The global tally keys one commitment counts under."""
    return [("country", country_code), ("day", _as_utc(created_at).date().isoformat()),
            ("gender", gender.value), ("tenant", str(tenant_id))]


# Raw SQL, reviewed: each binds the current tenant itself (:tenant_id).
# PostgreSQL: both tables in one statement, one round trip, built once. Rows are written in a fixed order
# (ORDER BY), so two sign-ups lock the tally rows they share in the same order and cannot deadlock. The app
# role may not write the global tallies itself: add_to_global_tallies() (migration 0008) adds +1 or -1 for it.
_RECORD_POSTGRESQL = reviewed_sql("""
    WITH tenant_rows AS (
        INSERT INTO tenant_tallies AS t (tenant_id, dimension, key, shard, total, men, updated_at)
        SELECT :tenant_id, dimension, key, :shard, :delta, :men, :now
        FROM unnest(CAST(:tenant_dimensions AS text[]), CAST(:tenant_keys AS text[])) AS added(dimension, key)
        ORDER BY dimension, key
        ON CONFLICT (tenant_id, dimension, key, shard) DO UPDATE
        SET total = t.total + excluded.total, men = t.men + excluded.men, updated_at = excluded.updated_at)
    SELECT add_to_global_tallies(CAST(:global_dimensions AS text[]), CAST(:global_keys AS text[]), :shard, :delta,
                                 :men, :now)
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))

# SQLite (the embedded run and the tests) has no data-modifying WITH: one statement per table, a row per key.
_RECORD_SQLITE_TENANT = reviewed_sql("""
    INSERT INTO tenant_tallies (tenant_id, dimension, key, shard, total, men, updated_at)
    VALUES (:tenant_id, :dimension, :key, :shard, :delta, :men, :now)
    ON CONFLICT (tenant_id, dimension, key, shard) DO UPDATE
    SET total = total + excluded.total, men = men + excluded.men, updated_at = excluded.updated_at
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))
_RECORD_SQLITE_GLOBAL = reviewed_sql("""
    INSERT INTO global_tallies (dimension, key, shard, total, men, updated_at)
    VALUES (:dimension, :key, :shard, :delta, :men, :now)
    ON CONFLICT (dimension, key, shard) DO UPDATE
    SET total = total + excluded.total, men = men + excluded.men, updated_at = excluded.updated_at
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))


def record(facts, delta: int) -> None:
    """Add ``delta`` (+1 or -1) for one commitment of the current tenant; ``facts`` has gender,
    country_code, unit_id, place_id and created_at. Open live pages hear of it once committed."""
    tenant_id = current_tenant_id()
    common = dict(tenant_id=tenant_id, shard=random.randrange(current_app.config["ROLLUP_SHARDS"]), delta=delta,
                  men=delta if facts.gender is Gender.MAN else 0, now=datetime.now(timezone.utc))
    tenant = tenant_keys(facts.gender, facts.country_code, facts.unit_id, facts.place_id, facts.created_at,
                         facts.source)
    everyone = global_keys(tenant_id, facts.gender, facts.country_code, facts.created_at)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_RECORD_POSTGRESQL, dict(
            common, tenant_dimensions=[d for d, _ in tenant], tenant_keys=[k for _, k in tenant],
            global_dimensions=[d for d, _ in everyone], global_keys=[k for _, k in everyone]))
    else:
        db.session.execute(_RECORD_SQLITE_TENANT, [dict(common, dimension=d, key=k) for d, k in tenant])
        db.session.execute(_RECORD_SQLITE_GLOBAL, [dict(common, dimension=d, key=k) for d, k in everyone])
    live.note_changed(db.session(), live.channel_for(None), live.channel_for(tenant_id))


@dataclass
class Counts:
    """Totals by tally key, and when they last changed."""

    by_key: dict[Key, tuple[int, int]]
    updated_at: datetime | None

    def dimension(self, name: str) -> dict[str, dict[str, int]]:
        """``{key: {"total": n, "men": n}}`` for one dimension, leaving out keys that sum to nothing."""
        return {key: {"total": total, "men": men}
                for (dimension, key), (total, men) in sorted(self.by_key.items())
                if dimension == name and total}

    @property
    def total(self) -> int:
        return sum(total for (dimension, _), (total, _) in self.by_key.items() if dimension == "gender")

    @property
    def men(self) -> int:
        return self.by_key.get(("gender", Gender.MAN.value), (0, 0))[0]


def _read(model, dimensions: Iterable[str]) -> Counts:
    rows = db.session.execute(
        select(model.dimension, model.key, func.sum(model.total), func.sum(model.men), func.max(model.updated_at))
        .where(model.dimension.in_(list(dimensions)))
        .group_by(model.dimension, model.key)
    ).all()
    updated = [_as_utc(row[4]) for row in rows if row[4] is not None]
    return Counts({(d, k): (int(t), int(m)) for d, k, t, m, _ in rows}, max(updated, default=None))


def tenant_counts(dimensions: Iterable[str] = ("gender",)) -> Counts:
    """The current tenant's counts for the given dimensions (just the headline numbers by default)."""
    return _read(TenantTally, dimensions)


def global_counts(dimensions: Iterable[str] = ("gender",)) -> Counts:
    """The movement's counts across every tenant for the given dimensions."""
    return _read(GlobalTally, dimensions)
