"""Counts for the pages and ``stats.json``, read from the roll-up (never by counting commitments)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache, cached
from flask import current_app

from core import maps, privacy, site
from core.rollup import services as rollup
from core.rollup import steps
from core.rollup.release import release, unit_parents


#: The shape of ``stats.json`` (docs/counting.md lists its fields); raised whenever a field changes or goes.
SCHEMA_VERSION = 4
#: Counts are promised within 2 seconds of a commitment: a second in this process's memory at most, and a second
#: in a browser's or a proxy's cache (``max-age``).
MAX_CACHE_SECONDS = 1.0


def _breakdowns(counts: rollup.Counts, k: int, commitments: int, verified_commitments: int | None,
                released_commitments: int | None) -> dict:
    """The figures both sites' ``stats.json`` share. ``total`` and ``men`` are people (on a tenant's site, where
    each person commits once, as many as its ``commitments``); ``verified`` and ``unverified`` split each figure
    (the commitments only on a tenant's site: None on the global one). ``total``, ``people`` and ``commitments``
    are live; everything else is the site's released copy, which moves in steps of k people
    (``core/rollup/steps.py``)."""
    released = counts.summed("gender")
    countries = counts.dimension("country")
    by_country = release(countries, k)
    by_gender = release(counts.dimension("gender"), k)
    unverified_commitments = None if released_commitments is None else released_commitments - verified_commitments
    return {
        "total": counts.total,
        "men": counts.men,
        "people": counts.total,
        "commitments": commitments,
        "verified": {"people": released.verified, "men": counts.verified_men, "commitments": verified_commitments},
        "unverified": {"people": released.total - released.verified, "men": counts.men - counts.verified_men,
                       "commitments": unverified_commitments},
        "k": k,
        # A country's cell is shown as counted (never merged), so its own verified figure goes with it.
        "by_country": {key: {**cell, "verified": countries[key]["verified"]}
                       for key, cell in by_country.cells_json().items()},
        "by_gender": {key: count.total for key, count in by_gender.cells.items()},
        "fewer_than_k": {"by_country": by_country.rest_json(), "by_gender": by_gender.rest_json()},
        "updated_at": maps.iso_time(counts.updated_at),
        "released_at": maps.iso_time(counts.released_at),
        "verified_released_at": maps.iso_time(counts.verified_released_at),
    }


def tenant_stats(tenant: site.Tenant) -> dict:
    """The current tenant's counts by country, gender and unit, none under its privacy threshold. A unit
    too small to show is counted in its parent; ``fewer_than_k`` holds what could not be placed."""
    k = tenant.privacy_k
    counts = steps.tenant_counts(("country", "gender", "unit", "pillar", "acted", "acted_pillar", "acted_unit"), k)
    units = {str(u.id): u for u in site.tenant_site().units()}
    parent_of = unit_parents(units.values())
    by_unit = release(counts.dimension("unit"), k, parent_of)
    stats = _breakdowns(counts, k, counts.total, counts.verified, counts.summed("gender").total)
    stats["by_unit"] = {key: {"name": units[key].name, "kind": units[key].kind.value, "parent": parent_of[key],
                              **value} for key, value in by_unit.cells_json().items() if key in units}
    stats["fewer_than_k"]["by_unit"] = by_unit.rest_json()
    by_pillar = release(counts.dimension("pillar"), k)
    stats["by_pillar"] = by_pillar.cells_json()
    stats["fewer_than_k"]["by_pillar"] = by_pillar.rest_json()
    stats["acted"] = acted_stats(counts, k, parent_of)
    return stats


def acted_stats(counts: rollup.Counts, k: int, parent_of: dict) -> dict:
    """The people who did an action they planned, as released: in all (None while fewer than k), by pillar and by
    unit. Only the cells: they are a part of everyone, so a rest of small cells could tell a group under k."""
    acted = release(counts.dimension("acted"), k).cells.get(rollup.ACTED_KEY)
    return {"people": acted.total if acted else None,
            "by_pillar": release(counts.dimension("acted_pillar"), k).cells_json(),
            "by_unit": release(counts.dimension("acted_unit"), k, parent_of).cells_json()}


def global_stats() -> dict:
    """The movement's counts across every tenant: people (each once, however many partners they committed at),
    and the partners' commitments, live (countries under the threshold held back). The commitments are not split
    into verified and unverified here: each partner's split steps with its own copy, and the movement's copy at
    other moments, so any such split set beside the partners' own pages or the movement's people would single
    out whoever changed in between."""
    counts = steps.global_counts(("country", "gender"), privacy.DEFAULT_K)
    return _breakdowns(counts, privacy.DEFAULT_K, rollup.global_counts(("tenant",)).summed("tenant").total,
                       None, None)


def listed_partners() -> list[dict]:
    """Active partner organisations that chose to be listed, with their counts, most men first; cached for at
    most a second (each partner's figures are a read of its own copy)."""
    return current_app.extensions[_EXTENSION].partners()


def _listed_partners() -> list[dict]:
    partners = [{"slug": t.slug, "name": t.name, "kind": t.kind.value, "logo_version": t.logo_version,
                 **maps.partner_figures(t)}
                for t in site.tenant_site().listed()]
    return sorted(partners, key=lambda p: (-p["men"], -p["total"], p["name"].casefold()))


def global_overview(leading: int = 10) -> dict:
    """What the global page shows: the counts, the leading countries by men, and the listed partners."""
    stats = site_stats(None)
    countries = sorted(stats["by_country"].items(), key=lambda item: (-item[1]["men"], -item[1]["total"], item[0]))
    return {**stats, "leading_countries": countries[:leading], "partners": listed_partners()}


def _compute(tenant_id: int | None) -> dict:
    return tenant_stats(site.tenant_site().get(tenant_id)) if tenant_id is not None else global_stats()


def _headline(tenant_id: int | None) -> dict:
    return maps.headline(maps.site_counts(site.tenant_site().get(tenant_id) if tenant_id is not None else None, ()))


@dataclass(frozen=True)
class _Caches:
    stats: Callable[[int | None], dict]
    headline: Callable[[int | None], dict]
    map: Callable[..., dict]
    partners: Callable[[], list[dict]]


_EXTENSION = "core.stats"  # this module's own state in ``app.extensions``: each app's caches


def site_stats(tenant_id: int | None) -> dict:
    """``stats.json``'s counts for the current site (``tenant_id`` None: the global one), cached for at most a
    second."""
    return current_app.extensions[_EXTENSION].stats(tenant_id)


def site_headline(tenant_id: int | None) -> dict:
    """The current site's totals only (``count.json``), cached for at most a second."""
    return current_app.extensions[_EXTENSION].headline(tenant_id)


def site_map(tenant_id: int | None, unit_id: uuid.UUID | None, language: str) -> dict:
    """The current site's map data (``maps.site_map``), cached for at most a second per site, unit and language."""
    return current_app.extensions[_EXTENSION].map(tenant_id, unit_id, language)


def _single_flight(function, seconds: float):
    # When an entry expires, one request recomputes it while the others asking at that moment wait for
    # its answer, instead of all recounting at once.
    if seconds <= 0:
        return function
    return cached(TTLCache(maxsize=100_000, ttl=seconds), condition=threading.Condition())(function)


def cache_seconds(app) -> float:
    """How long counts are kept in memory: ``STATS_CACHE_SECONDS``, never more than ``MAX_CACHE_SECONDS``."""
    return min(float(app.config["STATS_CACHE_SECONDS"]), MAX_CACHE_SECONDS)


def init_app(app) -> None:
    """Keep each site's stats, totals and map, and the listed partners, for ``cache_seconds``."""
    seconds = cache_seconds(app)
    app.extensions[_EXTENSION] = _Caches(stats=_single_flight(_compute, seconds),
                                         headline=_single_flight(_headline, seconds),
                                         map=_single_flight(maps.site_map, seconds),
                                         partners=_single_flight(_listed_partners, seconds))
