"""Recount: the tallies checked against the commitments they count, and rewritten where they drifted.

The commitments belong to the tenants package, above core; it tells the roll-up where they are once, in its
``init_app``, with ``count_commitments_from(app, Commitments(...))``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import Table, delete

from core.database import lock_for_recount
from core.extensions import db
from core.rollup.models import Gender, GlobalTally, Source, TenantTally
from core.rollup.services import Counts, global_counts, tenant_counts, tenant_keys
from core.tenancy import reviewed_sql, tenant_context

CountedFacts = tuple[Gender, str, object, int | None, datetime, Source]


@dataclass(frozen=True)
class Commitments:
    """Where the counted commitments are, as their owner hands them to the roll-up."""

    table: Table  # held off writers (with the tenant tallies) while a repair rewrites the tallies
    tenants: Callable[[], list[tuple[int, str]]]  # every tenant's id and slug, in the order to recount them
    # The current tenant's counted (not withdrawn) commitments: gender, country code, unit id, place id,
    # creation time and source.
    counted: Callable[[], Iterable[CountedFacts]]


_EXTENSION = "core.rollup.commitments"


def count_commitments_from(app, commitments: Commitments) -> None:
    """Tell the roll-up of ``app`` where the commitments it counts are."""
    app.extensions[_EXTENSION] = commitments


def commitments() -> Commitments:
    """The counted commitments of the current app, as handed in by their owner."""
    return current_app.extensions[_EXTENSION]


@dataclass(frozen=True)
class Drift:
    """A tally that disagrees with the commitments."""

    scope: str
    dimension: str
    key: str
    stored: tuple[int, int]
    expected: tuple[int, int]


def _expected_tenant_counts(rows: Iterable[CountedFacts]) -> tuple[Counter, Counter]:
    totals, men = Counter(), Counter()
    for gender, country_code, unit_id, place_id, created_at, source in rows:
        for key in tenant_keys(gender, country_code, unit_id, place_id, created_at, source):
            totals[key] += 1
            men[key] += gender is Gender.MAN
    return totals, men


def _compare(scope: str, stored: Counts, totals: Counter, men: Counter) -> list[Drift]:
    drifts = []
    for key in sorted(set(stored.by_key) | set(totals)):
        have = stored.by_key.get(key, (0, 0))
        want = (totals[key], men[key])
        if have != want:
            drifts.append(Drift(scope, key[0], key[1], have, want))
    return drifts


_REBUILD_GLOBAL_POSTGRESQL = reviewed_sql("SELECT rebuild_global_tallies()")


def _rewrite(model, totals: Counter, men: Counter, **fixed) -> None:
    db.session.execute(delete(model))
    now = datetime.now(timezone.utc)
    rows = [dict(fixed, dimension=d, key=k, shard=0, total=totals[(d, k)], men=men[(d, k)], updated_at=now)
            for d, k in sorted(totals) if totals[(d, k)]]
    if rows:
        db.session.execute(model.__table__.insert(), rows)


ALL_TENANT_DIMENSIONS = ("country", "day", "gender", "place", "source", "unit", "unit_country")
ALL_GLOBAL_DIMENSIONS = ("country", "day", "gender", "tenant")


def recount(repair: bool = False, progress: Callable[[str], None] | None = None) -> list[Drift]:
    """Recount every tenant's and the global tallies from the commitments; list the drift, and
    rewrite the drifted tallies when ``repair`` is set. ``progress`` hears each tenant's slug once done."""
    source = commitments()
    global_totals, global_men = Counter(), Counter()
    drifts: list[Drift] = []
    if repair:
        # Every write to the global tallies comes with one to the tenant tallies, so this holds them off too.
        lock_for_recount(source.table, TenantTally.__table__)
    for tenant_id, slug in source.tenants():
        with tenant_context(tenant_id):
            totals, men = _expected_tenant_counts(source.counted())
            tenant_drift = _compare(f"tenant:{slug}", tenant_counts(ALL_TENANT_DIMENSIONS), totals, men)
            if repair and tenant_drift:
                _rewrite(TenantTally, totals, men, tenant_id=tenant_id)
        drifts += tenant_drift
        for (dimension, key), n in totals.items():
            if dimension in ("country", "day", "gender"):
                global_totals[(dimension, key)] += n
                global_men[(dimension, key)] += men[(dimension, key)]
            if dimension == "gender":
                global_totals[("tenant", str(tenant_id))] += n
                global_men[("tenant", str(tenant_id))] += men[(dimension, key)]
        if progress:
            progress(slug)
    global_drift = _compare("global", global_counts(ALL_GLOBAL_DIMENSIONS), global_totals, global_men)
    if repair and global_drift:
        if db.session.get_bind().dialect.name == "postgresql":
            # From the tenants' tallies, repaired above; the app role may not write the global ones itself.
            db.session.execute(_REBUILD_GLOBAL_POSTGRESQL)
        else:
            _rewrite(GlobalTally, global_totals, global_men)
    return drifts + global_drift
