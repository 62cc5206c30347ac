"""Breakdowns released in steps, so that comparing two releases singles out nobody.

Each release is k-safe on its own (``release.py``), but two live readings a sign-up apart would show what that
one person changed: their gender, country, unit, source, day, whether they confirmed. So every site shows its
breakdowns from a *released copy* of its tallies, and the copy is replaced only once its figures may move
(``step``): the counts of everyone and the verified counts are measured apart (a confirmation moves only the
second), and each has either not moved at all or moved by at least k people. ``moved`` measures a figure as
the largest, over the dimensions the copy holds (each counts a person at most once: every one of a partner's;
the movement's people by country, day and gender, not its commitments by partner), of its cells' summed moves:
so no sum is more than the people who moved, and a move that cancels out in one dimension (a man arriving in
one country as another leaves another) still shows in another. All of a site's
breakdowns step together, so no two of them can be played against each other either. What moves by one is the
site's total of people (``Counts.total``), which is what "totals may move by one" allows: it says that someone
came or went, not who.

Everyone's counts are never held back by the verified ones: when everyone's moved by k while the verified moved
by fewer (someone signed in through single sign-on at a partner that asks no confirmation, and nobody since),
the copy takes everyone's figures and keeps its verified ones as they were released (``Counts.verified_released_at``
says when), until those have moved by k in turn. Where verified people have since left a cell, its held figures
are shown brought within it (``fitted``, from figures already public) while the copy keeps them as released, so
that the next verified step is measured from what was released, not from what was fitted.

The copy is taken when it is read (any page, map or file of the site), in the reader's transaction, so sign-ups
pay nothing for it. Two readers taking one at once: only the one whose ``number`` is still current replaces it;
the mark, the copy and the live tallies are read in one statement (one snapshot), so a copy another reader
stored meanwhile makes the replacement fail instead of being compared with older tallies. Only a safe request (GET,
HEAD) or work outside a request (the live hub) takes a copy: a page that answers a POST is a refused form,
whose transaction is rolled back, so a copy taken there would be shown and never stored, and the next refused
form would show a newer one, a person apart.

Limits, on purpose: a step is k changes of *anyone*, so someone who adds k - 1 people of their own between two
releases learns the one other (as with any k threshold: sign-up limits and invalidation are the defence). The
movement's copy and each partner's step at different moments, so a partner's figures are shown from its own
copy wherever they appear (``maps.partner_figures``), and nothing sums partners' stepped figures on the global
site (its commitments are live, and not split into verified and unverified). The movement's figures and a
partner's own are still two schedules over people they share: where one partner holds nearly all of a group, its
page and the movement's, each read once, can differ by fewer than k of that group's people (docs/counting.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import NamedTuple

from flask import g, has_request_context, request
from sqlalchemy import (DateTime, Integer, String, bindparam, delete, func, insert, literal, null, select, tuple_,
                        type_coerce, union_all, update)

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
    dimensions: tuple[str, ...]  # what the copy holds: dimensions that count people, each at most once


_TENANT = _Site(TenantTally, TenantReleasedTally, TenantRelease, services.ALL_TENANT_DIMENSIONS)
# Not the movement's ``tenant`` dimension: it counts commitments (one person at n partners moves it by n), and each
# partner's figures are shown from the partner's own copy.
_GLOBAL = _Site(GlobalTally, GlobalReleasedTally, GlobalRelease, ("country", "day", "gender"))


#: What is read first to see whether a copy may be replaced: everyone by gender, and those who did an action (who
#: move while everyone's counts stay).
_FIRST_LOOK = ("gender", "acted")


def tenant_counts(dimensions: Iterable[str], k: int) -> Counts:
    """The current tenant's breakdowns as released (its threshold ``k``), and its live total of commitments."""
    return _released(_TENANT, dimensions, k)


def global_counts(dimensions: Iterable[str], k: int) -> Counts:
    """The movement's breakdowns as released, and its live total of people."""
    return _released(_GLOBAL, dimensions, k)


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
    """What replaces a site's copy: each key's figures as shown, and as released (what the next step is measured
    against); and whether the verified figures are new."""

    shown: dict[Key, Figures]
    released: dict[Key, Figures]
    verified: bool


def step(live: dict[Key, Figures], copy: dict[Key, Figures], k: int, first: bool = False,
         dimensions: Iterable[str] | None = None) -> Step | None:
    """What may replace the copy (``copy``: as released), measured over ``dimensions`` (all when None), or None
    while nothing may.

    Everyone's counts and the verified counts each either did not move or moved by k (something moved): the live
    tallies. Everyone's moved by k, the verified ones by fewer: everyone's figures live, the verified ones held as
    released, so that confirmations waiting for their k do not hold back everyone else's step (``_held``). The
    ``first`` release has no copy before it to be compared with: k people are enough, however many confirmed."""
    moved_total, moved_verified = moved(live, copy, "total", dimensions), moved(live, copy, "verified", dimensions)
    if first:
        return Step(live, live, True) if moved_total >= k else None
    if 0 < moved_total < k:
        return None
    if moved_verified == 0 or moved_verified >= k:
        return Step(live, live, True) if moved_total or moved_verified else None
    if moved_total == 0:
        return None
    return _held(live, copy, dimensions)


def _held(live: dict[Key, Figures], copy: dict[Key, Figures], dimensions: Iterable[str] | None) -> Step:
    """Everyone's figures from ``live``, the verified ones as ``copy`` released them, over ``dimensions`` only (a
    dimension the copy does not have yet waits for a whole step: from nothing, its verified figures would be
    new). Where a held figure no longer fits its cell (verified people have left it), the figure shown is brought
    within the cell, from figures both already public (``fitted``); the next step is still measured against the
    figures as released, kept beside it."""
    judged = None if dimensions is None else set(dimensions)
    shown, released = {}, {}
    for key in live.keys() | copy.keys():
        if judged is not None and key[0] not in judged:
            continue
        now, then = live.get(key, services.NOTHING), copy.get(key, services.NOTHING)
        if now.total or then.verified:
            released[key] = Figures(now.total, now.men, then.verified, then.verified_men)
            shown[key] = fitted(released[key])
    return Step(shown, released, False)


def fitted(figures: Figures) -> Figures:
    """Figures whose verified ones were held while everyone's moved on, brought within their cell: no more
    verified people than people, verified men between what the cell's men and unverified people allow."""
    verified = min(figures.verified, figures.total)
    verified_men = min(max(figures.verified_men, figures.men + verified - figures.total, 0), verified, figures.men)
    return Figures(figures.total, figures.men, verified, verified_men)


def _released(site: _Site, dimensions: Iterable[str], k: int) -> Counts:
    wanted = {*dimensions, *_FIRST_LOOK}  # the gender breakdown always: the men, and a first look at what moved
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return _read_released(site, wanted, k)
    # A page reads its counts once however many of its parts show them (the counter, the published target).
    read = g.setdefault("released_counts", {})
    key = (site.mark, current_tenant_id() if site is _TENANT else None, frozenset(wanted), k)
    if key not in read:
        read[key] = _read_released(site, wanted, k)
    return read[key]


def _read_released(site: _Site, wanted: set[str], k: int) -> Counts:
    mark, copy, as_released, live = _first_look(site, wanted)
    # Only once the gender cells (or those who acted, who move without a new commitment) show k people's moves is
    # everything read: then the whole copy is judged.
    first_look = {key: figures for key, figures in as_released.items() if key[0] in _FIRST_LOOK}
    if _may_release() and max(moved(live.by_key, first_look, figure) for figure in ("total", "verified")) >= k:
        fresh, (shown, whole) = services.read(site.tallies, site.dimensions), _copy(site, set(site.dimensions))
        # A dimension the copy has nothing of (one added since, as ``unit_day``) is judged from the next copy on:
        # compared with nothing, its every cell would look moved. An empty copy (everyone gone) is judged whole.
        judged = site.dimensions if mark is None or not whole else [
            d for d in site.dimensions if any(key[0] == d for key in whole)]
        taken = step(fresh.by_key, whole, k, first=mark is None, dimensions=judged)
        if taken is not None and _take(site, mark, taken, (shown, whole)):
            mark, copy, _, _ = _first_look(site, wanted)
    return Counts(copy, live.updated_at, live_total=live.total,
                  released_at=services.as_utc(mark.released_at) if mark is not None else None,
                  verified_released_at=services.as_utc(mark.verified_released_at) if mark is not None else None)


class _Mark(NamedTuple):
    number: int
    released_at: datetime
    verified_released_at: datetime


def _first_look(site: _Site, wanted: set[str]) -> tuple[_Mark | None, dict[Key, Figures], dict[Key, Figures],
                                                             Counts]:
    """The site's mark, its copy in ``wanted`` (as shown and as released) and its live tallies of ``_FIRST_LOOK``:
    what every page's counts read, in one statement (one round trip, one snapshot: the three agree as read in
    that order would)."""
    mark, copy, tallies = site.mark, site.copy, site.tallies
    text, number, moment = (type_coerce(null(), type_) for type_ in (String, Integer, DateTime(timezone=True)))
    rows = db.session.execute(union_all(
        select(literal("mark"), text, text, mark.number, number, number, number, number, number, mark.released_at,
               mark.verified_released_at),
        select(literal("copy"), copy.dimension, copy.key, copy.total, copy.men, copy.verified, copy.verified_men,
               copy.released_verified, copy.released_verified_men, moment, moment)
        .where(copy.dimension.in_(sorted(wanted))),
        select(literal("live"), tallies.dimension, tallies.key, func.sum(tallies.total), func.sum(tallies.men),
               func.sum(tallies.verified), func.sum(tallies.verified_men), number, number,
               func.max(tallies.updated_at), moment)
        .where(tallies.dimension.in_(_FIRST_LOOK)).group_by(tallies.dimension, tallies.key)))
    found, shown, released, live, updated = None, {}, {}, {}, []
    for part, dimension, key, total, men, verified, verified_men, released_verified, released_men, at, then in rows:
        if part == "mark":
            found = _Mark(total, at, then)
        elif part == "copy":
            shown[dimension, key] = Figures(total, men, verified, verified_men)
            released[dimension, key] = Figures(total, men, released_verified, released_men)
        else:
            live[dimension, key] = Figures(int(total), int(men), int(verified), int(verified_men))
            if at is not None:
                updated.append(services.as_utc(at))
    return found, shown, released, Counts(live, max(updated, default=None))


def _may_release() -> bool:
    return not has_request_context() or request.method in ("GET", "HEAD")


def _copy(site: _Site, dimensions: set[str]) -> tuple[dict[Key, Figures], dict[Key, Figures]]:
    """The copy's figures in ``dimensions``, as shown and as released (verified figures before any ``fitted``)."""
    model = site.copy
    rows = db.session.execute(select(
        model.dimension, model.key, model.total, model.men, model.verified, model.verified_men,
        model.released_verified, model.released_verified_men).where(model.dimension.in_(sorted(dimensions))))
    shown, released = {}, {}
    for dimension, key, total, men, verified, verified_men, released_verified, released_verified_men in rows:
        shown[dimension, key] = Figures(total, men, verified, verified_men)
        released[dimension, key] = Figures(total, men, released_verified, released_verified_men)
    return shown, released


def _take(site: _Site, mark, taken: Step, before: tuple[dict[Key, Figures], dict[Key, Figures]]) -> bool:
    """Replace the site's copy (``before``: as shown and as released, read after ``mark``) with ``taken``, unless
    another reader released one since ``mark`` was read (False); only the keys that changed are written (a step
    moves a few cells of many). The movement's copy on PostgreSQL: by ``release_global_tallies()`` (migrations
    0019, 0022), which the app role may call but not bypass; it decides as ``step`` does, with the movement's k
    (``privacy.DEFAULT_K``), from the tallies as they are then."""
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
    shown_before, released_before = before
    kept = {key for key, figures in taken.released.items() if figures.total or figures.verified}
    changed = {key for key in kept
               if shown_before.get(key) != taken.shown[key] or released_before.get(key) != taken.released[key]}
    stale = (released_before.keys() - kept) | (changed & released_before.keys())
    copy = site.copy
    for batch in _batches(sorted(stale)):
        db.session.execute(delete(copy).where(tuple_(copy.dimension, copy.key).in_(batch))
                           .execution_options(synchronize_session=False))
    rows = [{**owner, "dimension": dimension, "key": key, **taken.shown[dimension, key]._asdict(),
             "released_verified": taken.released[dimension, key].verified,
             "released_verified_men": taken.released[dimension, key].verified_men}
            for dimension, key in sorted(changed)]
    for batch in _batches(rows):  # a statement of many rows, not one a row; within the databases' parameter limits
        db.session.execute(insert(copy).values(batch))
    return True


def _batches(items: list, size: int = 500) -> Iterable[list]:
    return (items[start:start + size] for start in range(0, len(items), size))


# Reviewed: no tenant table; the function reads only the global tallies and writes the movement's copy.
_RELEASE_GLOBAL = reviewed_sql("SELECT release_global_tallies(:expected)").bindparams(
    bindparam("expected", type_=Integer))
