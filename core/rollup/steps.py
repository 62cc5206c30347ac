"""Breakdowns released in steps, so that comparing two releases singles out nobody.

Each release is k-safe on its own (``release.py``), but two live readings a sign-up apart would show what that
one person changed: their gender, country, unit, source, day, whether they confirmed. So every site shows its
breakdowns from a *released copy* of its tallies, and the copy is replaced only once its figures may move
(``step``): the counts of everyone and the verified counts are measured apart (a confirmation moves only the
second), and each has either not moved at all or moved by at least k people. ``moved`` measures a figure as
the largest, over the dimensions that count a person at most once (``_Site.measured``: every one of a
partner's, and the movement's but its commitments by partner), of its cells' summed moves: so no sum is more
than the people who moved, and a move that cancels out in one dimension (a man arriving in one country as
another leaves another) still shows in another. All of a site's
breakdowns step together, so no two of them can be played against each other either. What moves by one is the
site's total of people (``Counts.total``), which is what "totals may move by one" allows: it says that someone
came or went, not who.

Everyone's counts are never held back by the verified ones: when everyone's moved by k while the verified moved
by fewer (someone signed in through single sign-on at a partner that asks no confirmation, and nobody since),
the copy takes everyone's figures and keeps its verified ones as they were released (``Counts.verified_released_at``
says when), until those have moved by k in turn.

The copy is taken when it is read (any page, map or file of the site), in the reader's transaction, so sign-ups
pay nothing for it. Two readers taking one at once: only the one whose ``number`` is still current replaces it;
the mark is read before the copy and the copy before the live tallies, so a copy another reader stored
meanwhile makes the replacement fail instead of being compared with older tallies. Only a safe request (GET,
HEAD) or work outside a request (the live hub) takes a copy: a page that answers a POST is a refused form,
whose transaction is rolled back, so a copy taken there would be shown and never stored, and the next refused
form would show a newer one, a person apart.

Limits, on purpose: a step is k changes of *anyone*, so someone who adds k - 1 people of their own between two
releases learns the one other (as with any k threshold: sign-up limits and invalidation are the defence). The
movement's copy and each partner's step at different moments, so a partner's figures are shown from its own
copy wherever they appear (``maps.partner_figures``), and the movement's sums over partners are sums of the
partners' own copies (``partner_copies``), never its own copy's breakdown by partner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple

from flask import has_request_context, request
from sqlalchemy import Integer, bindparam, delete, insert, select, update

from core.database import insert_new
from core.extensions import db
from core.rollup import services
from core.rollup.models import (GlobalRelease, GlobalReleasedTally, GlobalTally, TenantRelease, TenantReleasedTally,
                                TenantTally)
from core.rollup.services import Counts, Figures, Key
from core.tenancy import current_tenant_id, reviewed_sql


@dataclass(frozen=True)
class _Site:
    tallies: type
    copy: type
    mark: type
    dimensions: tuple[str, ...]
    measured: tuple[str, ...]  # the dimensions that count people, each at most once: what a step is measured on


_TENANT = _Site(TenantTally, TenantReleasedTally, TenantRelease, services.ALL_TENANT_DIMENSIONS,
                services.ALL_TENANT_DIMENSIONS)
# Not the movement's ``tenant`` dimension: it counts commitments, and one person at n partners moves it by n.
_GLOBAL = _Site(GlobalTally, GlobalReleasedTally, GlobalRelease, services.ALL_GLOBAL_DIMENSIONS,
                ("country", "day", "gender"))


def tenant_counts(dimensions: Iterable[str], k: int) -> Counts:
    """The current tenant's breakdowns as released (its threshold ``k``), and its live total of commitments."""
    return _released(_TENANT, dimensions, k)


def global_counts(dimensions: Iterable[str], k: int) -> Counts:
    """The movement's breakdowns as released, and its live total of people."""
    return _released(_GLOBAL, dimensions, k)


def partner_copies() -> dict[int, Figures]:
    """Every organisation's figures as its released copy has them (its gender cells summed), by tenant id: what
    the movement's sums over partners add up, so that no such sum is a step apart from the partners' own pages.
    Read as stored: a copy steps when its own site is read."""
    statement = _PARTNER_COPIES_POSTGRESQL if db.session.get_bind().dialect.name == "postgresql" else \
        _PARTNER_COPIES_SQLITE
    return {int(tenant_id): Figures(*map(int, figures)) for tenant_id, *figures in db.session.execute(statement)}


def moved(live: dict[Key, Figures], copy: dict[Key, Figures], figure: str,
          dimensions: Iterable[str] | None = None) -> int:
    """At least how many people's ``figure`` (``total`` or ``verified``) separates a copy from the live tallies:
    the largest sum, over a dimension's cells, of their moves (0 when nothing moved); over ``dimensions`` only
    when given, each of which must count a person at most once."""
    per_dimension: dict[str, int] = {}
    for key in live.keys() | copy.keys():
        if dimensions is not None and key[0] not in dimensions:
            continue
        now, then = live.get(key, services.NOTHING), copy.get(key, services.NOTHING)
        per_dimension[key[0]] = per_dimension.get(key[0], 0) + abs(getattr(now, figure) - getattr(then, figure))
    return max(per_dimension.values(), default=0)


class Step(NamedTuple):
    """What replaces a site's copy: ``figures``, and whether their verified figures are new (else held as they
    were released: ``figures`` has the live counts of everyone and the copy's verified ones)."""

    figures: dict[Key, Figures]
    verified: bool


def step(live: dict[Key, Figures], copy: dict[Key, Figures], k: int, first: bool = False,
         dimensions: Iterable[str] | None = None) -> Step | None:
    """What may replace the copy, measured over ``dimensions`` (all when None), or None while nothing may.

    Everyone's counts and the verified counts each either did not move or moved by k (something moved): the live
    tallies. Everyone's moved by k, the verified ones by fewer: the live tallies with the verified figures held
    as the copy has them, so that confirmations waiting for their k do not hold back everyone else's step; only
    where each held figure still fits in its cell (no more verified than counted, no more unverified men than
    unverified people), or not at all. The ``first`` release has no copy before it to be compared with: k people
    are enough, however many confirmed."""
    moved_total, moved_verified = moved(live, copy, "total", dimensions), moved(live, copy, "verified", dimensions)
    if first:
        return Step(live, True) if moved_total >= k else None
    if 0 < moved_total < k:
        return None
    if moved_verified == 0 or moved_verified >= k:
        return Step(live, True) if moved_total or moved_verified else None
    if moved_total == 0:
        return None
    held = _held(live, copy)
    return Step(held, False) if held is not None else None


def _held(live: dict[Key, Figures], copy: dict[Key, Figures]) -> dict[Key, Figures] | None:
    """``live`` with each key's verified figures as ``copy`` has them, or None where one no longer fits."""
    held = {}
    for key in live.keys() | copy.keys():
        now, then = live.get(key, services.NOTHING), copy.get(key, services.NOTHING)
        figures = Figures(now.total, now.men, then.verified, then.verified_men)
        if figures.verified > figures.total or figures.verified_men > figures.men or (
                figures.men - figures.verified_men > figures.total - figures.verified):
            return None
        held[key] = figures
    return held


def _released(site: _Site, dimensions: Iterable[str], k: int) -> Counts:
    wanted = {*dimensions, "gender"}  # the gender breakdown always: the men, and a first look at what moved
    mark = db.session.scalars(select(site.mark)).one_or_none()
    copy = _copy(site, wanted)
    live = services.read(site.tallies, ("gender",))
    # Only once the gender cells show k people's moves is everything read: then the whole copy is judged.
    by_gender = {key: figures for key, figures in copy.items() if key[0] == "gender"}
    if _may_release() and max(moved(live.by_key, by_gender, figure) for figure in ("total", "verified")) >= k:
        fresh, whole = services.read(site.tallies, site.dimensions), _copy(site, set(site.dimensions))
        # A dimension the copy has nothing of (one added since, as ``unit_day``) is judged from the next copy on:
        # compared with nothing, its every cell would look moved.
        judged = site.measured if mark is None else [d for d in site.measured if any(key[0] == d for key in whole)]
        taken = step(fresh.by_key, whole, k, first=mark is None, dimensions=judged)
        if taken is not None and _take(site, mark, taken):
            copy = _copy(site, wanted)
            mark = db.session.scalars(select(site.mark).execution_options(populate_existing=True)).one()
    return Counts(copy, live.updated_at, live_total=live.total,
                  released_at=services.as_utc(mark.released_at) if mark is not None else None,
                  verified_released_at=services.as_utc(mark.verified_released_at) if mark is not None else None)


def _may_release() -> bool:
    return not has_request_context() or request.method in ("GET", "HEAD")


def _copy(site: _Site, dimensions: set[str]) -> dict[Key, Figures]:
    model = site.copy
    rows = db.session.execute(select(model.dimension, model.key, model.total, model.men, model.verified,
                                     model.verified_men).where(model.dimension.in_(sorted(dimensions))))
    return {(dimension, key): Figures(*figures) for dimension, key, *figures in rows}


def _take(site: _Site, mark, taken: Step) -> bool:
    """Replace the site's copy with ``taken``, unless another reader released one since ``mark`` was read
    (False). The movement's copy on PostgreSQL: by ``release_global_tallies()`` (migrations 0019, 0022), which the
    app role may call but not bypass; it decides as ``step`` does, with the movement's k (``privacy.DEFAULT_K``),
    from the tallies as they are then."""
    if site is _GLOBAL and db.session.get_bind().dialect.name == "postgresql":
        return db.session.scalar(_RELEASE_GLOBAL, {"expected": mark.number if mark else None}) is not None
    now = datetime.now(timezone.utc)
    owner = {"tenant_id": current_tenant_id()} if site is _TENANT else {}
    mark_id = owner or {"id": 1}  # the movement's mark is its table's one row
    if mark is None:
        won = insert_new(site.mark.__table__, tuple(mark_id), {**mark_id, "number": 1, "released_at": now,
                                                              "verified_released_at": now},
                         returning="number") is not None
    else:
        verified_at = now if taken.verified else mark.verified_released_at
        won = db.session.execute(
            update(site.mark).where(site.mark.number == mark.number)
            .values(number=mark.number + 1, released_at=now, verified_released_at=verified_at)
            .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        return False
    db.session.execute(delete(site.copy).execution_options(synchronize_session=False))
    rows = [{**owner, "dimension": dimension, "key": key, **figures._asdict()}
            for (dimension, key), figures in taken.figures.items() if figures.total]
    if rows:
        db.session.execute(insert(site.copy), rows)
    return True


# Reviewed: no tenant table; the function reads only the global tallies and writes the movement's copy.
_RELEASE_GLOBAL = reviewed_sql("SELECT release_global_tallies(:expected)").bindparams(
    bindparam("expected", type_=Integer))
# Reviewed: every tenant's released copy, summed per tenant (figures each tenant's own pages show). PostgreSQL:
# released_partner_figures() (migration 0022) reads each tenant's copy as that tenant, under row-level security.
_PARTNER_COPIES_SQLITE = reviewed_sql("""
    SELECT tenant_id, sum(total), sum(men), sum(verified), sum(verified_men) FROM tenant_released_tallies
    WHERE dimension = 'gender' GROUP BY tenant_id""")
_PARTNER_COPIES_POSTGRESQL = reviewed_sql(
    "SELECT tenant_id, total, men, verified, verified_men FROM released_partner_figures()")
