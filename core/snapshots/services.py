"""Taking, reading, checking and publishing snapshots.

The canonical form (``canonical``), which the SHA-256 and the signature are computed over: JSON with object keys
sorted (by code point), no whitespace between tokens, non-ASCII characters written as themselves, the whole encoded
as UTF-8, no newline at the end. A body holds only objects, strings, integers and null (no floats), so the form has
one spelling for each body; for such content it is the JSON Canonicalization Scheme of RFC 8785.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from core import maps, privacy, site
from core.database import insert
from core.extensions import db
from core.rollup import services as rollup
from core.rollup import steps
from core.rollup.release import release
from core.snapshots import keys
from core.snapshots.models import Snapshot

#: The body's layout; raised whenever a field is added, renamed or given another meaning.
SCHEMA_VERSION = 3
#: The figures every cell of a snapshot carries, as the tallies keep them (``Counts.dimension`` entries).
FIGURES = ("total", "men", "verified")
#: Snapshots per page of the public list.
PAGE_SIZE = 30


class SnapshotRefused(Exception):
    """A snapshot that cannot be taken (a day not begun yet, or one before the last snapshot's)."""


def canonical(value) -> bytes:
    """The canonical bytes of a JSON value (see the module's doc)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
                      ).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iso_time(moment: datetime) -> str:
    """A moment in UTC to the second, as a snapshot writes it: ``2026-12-05T00:00:03Z``."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _figures(entry: Mapping[str, int]) -> dict[str, int]:
    return {figure: entry.get(figure, 0) for figure in FIGURES}


def _summed(entries: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(FIGURES, 0)
    for entry in entries:
        for figure in FIGURES:
            total[figure] += entry.get(figure, 0)
    return total


def _released(dimension: dict[str, dict[str, int]], k: int) -> tuple[dict, dict | None]:
    """A dimension's cells that may be shown under k (through the one release function), each with all its
    figures, and the rest summed with how many cells it holds (None when nothing is held back)."""
    breakdown = release(dimension, k)
    cells = {key: _figures(dimension[key]) for key in breakdown.cells}  # no tree: each cell is its own key
    if breakdown.rest is None:
        return cells, None
    held = [key for key in breakdown.raw if key not in breakdown.cells]
    return cells, {**_summed(dimension[key] for key in held), "cells": breakdown.rest_cells}


def snapshot_body(counts: rollup.Counts, partners: Iterable[tuple[int, str, dict]], unlisted: int, *, day: date,
                  taken_at: datetime, previous_sha256: str | None, key_id: str, k: int = privacy.DEFAULT_K) -> dict:
    """What a day's snapshot says, from one read of the global tallies (dimensions ``country``, ``day`` and
    ``gender``), the listed partners (id, slug, figures as their own pages show them: ``maps.partner_figures``) and
    the other organisations' commitments (live, summed): every figure of ``FIGURES`` for the totals, by country and
    by gender (released under ``k``, as ``stats.json``) and by listed partner, the unlisted ones' commitments, and
    for the commitments made on ``day`` or later (``made_from_day``). The figures are the released copy's, as of its
    ``released_at``: ``made_from_release_day`` (the commitments made on that day or later) is what the drift
    check subtracts, since anyone made before that day and counted by then is in the copy."""
    by_country, country_rest = _released(counts.dimension("country"), k)
    by_gender, gender_rest = _released(counts.dimension("gender"), k)
    listed = {str(tenant_id): (slug, figures) for tenant_id, slug, figures in partners}
    return {
        "schema": SCHEMA_VERSION,
        "day": day.isoformat(),
        "taken_at": iso_time(taken_at),
        "previous_sha256": previous_sha256,
        "key_id": key_id,
        "k": k,
        **_summed(counts.dimension("gender").values()),
        "by_country": by_country,
        "by_gender": by_gender,
        "fewer_than_k": {"by_country": country_rest, "by_gender": gender_rest},
        "by_partner": {slug: _figures(figures) for slug, figures in listed.values()},
        "unlisted_partners": {"total": unlisted},
        "made_from_day": _summed(figures for key, figures in counts.dimension("day").items()
                                 if key >= day.isoformat()),
        "released_at": iso_time(counts.released_at) if counts.released_at else None,
        "verified_released_at": iso_time(counts.verified_released_at) if counts.verified_released_at else None,
        "made_from_release_day": _summed(figures for key, figures in counts.dimension("day").items()
                                         if key >= _cut(counts.released_at).isoformat()),
    }


def _cut(released_at: datetime | None) -> date:
    """The day before which a snapshot's commitments are all in its copy: the copy's release day. Before any
    release the copy holds nobody, so nothing is before it: every day is compared."""
    return released_at.astimezone(timezone.utc).date() if released_at else date.min


def latest() -> Snapshot | None:
    return db.session.scalars(select(Snapshot).order_by(Snapshot.day.desc()).limit(1)).first()


def take(day: date | None = None, now: datetime | None = None) -> tuple[Snapshot, bool]:
    """The snapshot of ``day`` (today, UTC, by default), taken now unless it exists: returns it and whether it is
    new. Refused for a day not begun yet, and for a day before the last snapshot's (the chain only goes forward)."""
    now = now or datetime.now(timezone.utc)
    day = day or now.astimezone(timezone.utc).date()
    if day > now.astimezone(timezone.utc).date():
        raise SnapshotRefused(f"{day.isoformat()} has not begun yet (UTC)")
    existing = db.session.get(Snapshot, day)
    if existing is not None:
        return existing, False
    last = latest()
    if last is not None and last.day > day:
        raise SnapshotRefused(f"the last snapshot is of {last.day.isoformat()}, after {day.isoformat()}: "
                              "snapshots are taken in order of their days")
    private_key = keys.signing_key()
    key_id = keys.publish(private_key.public_key())
    # The released copy (as the pages show it): one state for every figure, and no day's snapshot a step apart
    # from the pages.
    counts = steps.global_counts(("country", "day"), privacy.DEFAULT_K)
    partners = [(tenant.id, tenant.slug, maps.partner_figures(tenant)) for tenant in site.tenant_site().listed()]
    listed = {str(tenant_id) for tenant_id, _, _ in partners}
    # The others' commitments only, live: their men or verified figures, from their own copies or the movement's,
    # set beside the movement's would single out whoever changed between the two copies.
    unlisted = sum(figures["total"] for tenant_id, figures in
                   rollup.global_counts(("tenant",)).dimension("tenant").items() if tenant_id not in listed)
    body = canonical(snapshot_body(counts, partners, unlisted, day=day, taken_at=now, key_id=key_id,
                                   previous_sha256=sha256(last.body.encode("utf-8")) if last else None))
    added = db.session.execute(insert(Snapshot).values(
        day=day, body=body.decode("utf-8"), sha256=sha256(body),
        signature=base64.b64encode(private_key.sign(body)).decode("ascii"), key_id=key_id,
    ).on_conflict_do_nothing(index_elements=["day"]).returning(Snapshot.day)).scalar()
    # None: another process took the same day's snapshot meanwhile; theirs stands.
    return db.session.get(Snapshot, day, populate_existing=True), added is not None


@dataclass(frozen=True)
class Listed:
    """A snapshot as the public list shows it."""

    day: date
    taken_at: datetime
    total: int
    men: int
    sha256: str


@dataclass(frozen=True)
class SnapshotPage:
    rows: list[Listed]
    page: int  # the page shown: the one asked for, or the last one when it asked past the end
    pages: int  # at least one


def snapshot_page(page: int) -> SnapshotPage:
    """One page of snapshots, newest first."""
    pages = max(1, math.ceil(db.session.scalar(select(func.count()).select_from(Snapshot)) / PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = []
    for snapshot in db.session.scalars(select(Snapshot).order_by(Snapshot.day.desc())
                                       .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)):
        body = json.loads(snapshot.body)
        rows.append(Listed(snapshot.day, datetime.fromisoformat(body["taken_at"]), body["total"], body["men"],
                           snapshot.sha256))
    return SnapshotPage(rows, page, pages)


def find(day: date) -> Snapshot | None:
    return db.session.get(Snapshot, day)


def every_snapshot() -> Iterable[Snapshot]:
    """Every snapshot, oldest first, read a hundred at a time."""
    return db.session.scalars(select(Snapshot).order_by(Snapshot.day)).yield_per(100)


# What the global site publishes, and ``flask snapshots export`` writes: canonical JSON too.

def published_snapshot(snapshot: Snapshot) -> bytes:
    """A day's file: ``{"body": <the canonical body, as a string>, "key_id", "sha256", "signature"}``; the
    signature (base64) and the SHA-256 are of the body string's UTF-8 bytes."""
    return canonical({"body": snapshot.body, "key_id": snapshot.key_id, "sha256": snapshot.sha256,
                      "signature": snapshot.signature})


def published_index() -> bytes:
    """Every snapshot's day and SHA-256, oldest first: what a checker downloads first."""
    rows = db.session.execute(select(Snapshot.day, Snapshot.sha256).order_by(Snapshot.day)).all()
    return canonical({"snapshots": [{"day": day.isoformat(), "sha256": digest} for day, digest in rows]})


def published_keys() -> bytes:
    """Every public key that signed a snapshot, and the id of the one that signs now."""
    return canonical({"current": keys.key_id(keys.signing_key().public_key()), "keys": [
        {"key_id": key.key_id, "public_key": key.public_key, "added_at": iso_time(key.added_at)}
        for key in keys.published()]})


# Checking.

@dataclass(frozen=True)
class Break:
    """The first snapshot whose hash, signature or link in the chain does not hold."""

    day: date
    reason: str


def _problem(snapshot: Snapshot, public_keys: dict, previous_sha256: str | None) -> str | None:
    """What is wrong with one stored snapshot, given the SHA-256 of the body before it; None if nothing."""
    data = snapshot.body.encode("utf-8")
    if sha256(data) != snapshot.sha256:
        return f"its body does not match its SHA-256 {snapshot.sha256}"
    if snapshot.key_id not in public_keys:
        return f"it names a key that is not published ({snapshot.key_id})"
    try:
        public_keys[snapshot.key_id].verify(base64.b64decode(snapshot.signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return f"its signature does not verify with key {snapshot.key_id}"
    body = json.loads(data)
    if body.get("day") != snapshot.day.isoformat() or body.get("key_id") != snapshot.key_id:
        return f"it is filed under another day or key than it names ({body.get('day')}, {body.get('key_id')})"
    if body.get("previous_sha256") != previous_sha256:
        return (f"the chain breaks: it follows a snapshot with SHA-256 {body.get('previous_sha256')}, but the one "
                f"before it here has {previous_sha256} (a day before it was removed, added or changed)")
    return None


def verify() -> tuple[int, Break | None]:
    """Check every stored snapshot, oldest first: its body's SHA-256, its signature (by the key it names) and its
    link to the day before. Returns how many were checked and the first that breaks (None if none)."""
    public_keys = {key.key_id: serialization.load_pem_public_key(key.public_key.encode("ascii"))
                   for key in keys.published()}
    previous, checked = None, 0
    for snapshot in every_snapshot():
        problem = _problem(snapshot, public_keys, previous)
        if problem:
            return checked, Break(snapshot.day, problem)
        previous, checked = sha256(snapshot.body.encode("utf-8")), checked + 1
    return checked, None


@dataclass(frozen=True)
class Drift:
    """The live counts against the last snapshot. What was counted of commitments made before its day should be
    what it was then: ``before_day`` (then) and ``before_day_now``; ``since`` is what was added from its day on."""

    day: date
    cut: date  # the commitments compared are those made before it
    before_day: dict[str, int]
    before_day_now: dict[str, int]
    since: dict[str, int]

    @property
    def drifted(self) -> bool:
        return self.before_day != self.before_day_now


def drift() -> Drift | None:
    """The last snapshot's totals against the live ones, each less the day tallies from its cut on (None without
    snapshots): the live totals should be the snapshot's plus what was made since. The cut is the release day of
    the copy the snapshot was made from (its own day for a body of schema 1, made from the live tallies)."""
    last = latest()
    if last is None:
        return None
    body = json.loads(last.body)
    figures = [figure for figure in FIGURES if figure in body]  # a body of an older schema may have fewer
    if "made_from_release_day" in body:
        released_at = datetime.fromisoformat(body["released_at"]) if body["released_at"] else None
        cut, made_from_cut = _cut(released_at), body["made_from_release_day"]
    else:
        cut, made_from_cut = last.day, body["made_from_day"]
    counts = rollup.global_counts(("day", "gender"))
    live = _summed(counts.dimension("gender").values())
    from_cut = _summed(entry for key, entry in counts.dimension("day").items() if key >= cut.isoformat())
    return Drift(
        day=last.day, cut=cut,
        before_day={f: body[f] - made_from_cut[f] for f in figures},
        before_day_now={f: live[f] - from_cut[f] for f in figures},
        since={f: from_cut[f] - made_from_cut[f] for f in figures})
