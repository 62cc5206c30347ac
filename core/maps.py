"""Map data for the global site and each tenant, from the roll-up and through the privacy rule.

Everything here reads tally rows (one per key and shard), never commitments, so a map costs the same
with ten thousand or ten million commitments. Every breakdown goes through the one release function
(``core.rollup.release``): no country, city or unit of fewer than k people is shown.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import datetime
from pathlib import Path

import pycountry
from flask_babel import force_locale, get_locale

from core import live, places, privacy, site, tenancy
from core.rollup import services as rollup
from core.rollup import steps
from core.rollup.release import release, unit_parents


def _per_million(country: str, men: int) -> float | None:
    # Men are taken as half of the population: no offline source gives men by country.
    population = places.country_population(country)
    return round(men / (population / 2) * 1_000_000, 2) if population else None


def _countries(dimension: dict[str, dict[str, int]], k: int) -> tuple[dict, dict | None]:
    released = release(dimension, k)
    countries = {code: {"total": c.total, "men": c.men, "per_million": _per_million(code, c.men)}
                 for code, c in released.cells.items()}
    return countries, released.rest_json()


def version_of(updated_at: datetime | None) -> int:
    """A number that grows with every change, for event ids and cache keys."""
    return int(updated_at.timestamp() * 1000) if updated_at else 0


def iso_time(moment: datetime | None) -> str | None:
    """A moment as the JSON answers give it (UTC, ``Z``)."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def site_counts(tenant: site.Tenant | None, dimensions) -> rollup.Counts:
    """A site's counts as they may be shown (``tenant`` None: the movement's): its breakdowns as last released,
    its total live (``core/rollup/steps.py``)."""
    if tenant is None:
        return steps.global_counts(dimensions, privacy.DEFAULT_K)
    return steps.tenant_counts(dimensions, tenant.privacy_k)


def partner_figures(tenant: site.Tenant) -> dict[str, int]:
    """A partner's counts as its own pages show them (its released copy, its live total), for the global page and
    the snapshots. Not the movement's copy: that one steps when k people moved anywhere, so its figures of one
    partner could be a person apart from the partner's own, and the two side by side would single that person out."""
    with tenancy.tenant_context(tenant.id):
        counts = steps.tenant_counts((), tenant.privacy_k)
    return {"total": counts.total, "men": counts.men, "verified": counts.verified,
            "verified_men": counts.verified_men}


def headline(counts: rollup.Counts) -> dict:
    """The totals every count, map and live answer carries: people, men, when they last changed, a version."""
    return {"total": counts.total, "men": counts.men, "updated_at": iso_time(counts.updated_at),
            "version": version_of(counts.updated_at)}


def global_map() -> dict:
    """The world: totals, and men and everyone by country (countries under k held back)."""
    counts = site_counts(None, ("country",))
    countries, rest = _countries(counts.dimension("country"), privacy.DEFAULT_K)
    return {**headline(counts), "k": privacy.DEFAULT_K,
            "countries": countries, "countries_rest": rest, "markers": [], "places": [], "places_rest": None}


def tenant_map(tenant: site.Tenant, unit_id: uuid.UUID | None = None) -> dict:
    """One tenant's map: totals, countries, cities and its units with a place; optionally only the
    commitments of one unit and the units below it."""
    k = tenant.privacy_k
    counts = site_counts(tenant, ("country", "place", "unit", "unit_country", "acted_unit"))
    units = list(site.tenant_site().units())
    parent_of = unit_parents(units)
    country_counts = counts.dimension("country")
    if unit_id is not None:
        wanted = _subtree(str(unit_id), parent_of)
        country_counts = {}
        for key, value in counts.dimension("unit_country").items():
            unit, _, country = key.partition(":")
            if unit in wanted:
                total = country_counts.setdefault(country, {"total": 0, "men": 0})
                total["total"] += value["total"]
                total["men"] += value["men"]
    countries, countries_rest = _countries(country_counts, k)

    released_units = release(counts.dimension("unit"), k, parent_of)
    # The actions layer: beside each unit, the people of it who did an action they planned, where that group is
    # shown (released on its own, under k like the rest).
    acted = release(counts.dimension("acted_unit"), k, parent_of).cells
    by_id = {str(u.id): u for u in units}
    markers = [
        {"id": key, "name": by_id[key].name, "latitude": by_id[key].latitude, "longitude": by_id[key].longitude,
         "total": c.total, "men": c.men, **({"acted": acted[key].total} if key in acted else {})}
        for key, c in released_units.cells.items()
        if key in by_id and by_id[key].latitude is not None and (unit_id is None or key in wanted)
    ]
    released_places = release(counts.dimension("place"), k)
    language = str(get_locale())
    city_rows = []
    for key, c in released_places.cells.items():
        place = places.get(int(key), language)
        if place is not None:
            city_rows.append({"name": place.name, "country": place.country, "latitude": place.latitude,
                              "longitude": place.longitude, "total": c.total, "men": c.men})
    return {**headline(counts), "k": k, "countries": countries,
            "countries_rest": countries_rest, "markers": markers, "units_rest": released_units.rest_json(),
            "places": sorted(city_rows, key=lambda row: -row["men"]), "places_rest": released_places.rest_json()}


def _subtree(root: str, parent_of: dict[str, str | None]) -> set[str]:
    members = {root}
    changed = True
    while changed:
        before = len(members)
        members |= {unit for unit, parent in parent_of.items() if parent in members}
        changed = len(members) != before
    return members


def site_map(tenant_id: int | None, unit_id: uuid.UUID | None, language: str) -> dict:
    """The map of a site (``tenant_id`` None: the world), with place names in ``language``."""
    if tenant_id is None:
        return global_map()
    with force_locale(language):
        return tenant_map(site.tenant_site().get(tenant_id), unit_id)


def live_snapshot(tenant: site.Tenant | None) -> dict:
    """What a live page receives each time its site changes: totals, and the countries when the
    site's map is public."""
    counts = site_counts(tenant, ("country",))
    snapshot = headline(counts)
    if tenant is None or site.tenant_site().map_is_public(tenant):
        k = privacy.DEFAULT_K if tenant is None else tenant.privacy_k
        snapshot["countries"], snapshot["countries_rest"] = _countries(counts.dimension("country"), k)
    return snapshot


def channel_snapshot(channel: str) -> dict:
    """A live channel's snapshot (``live_snapshot`` of its site), for the live hub, in the channel's tenant context
    (the hub's unit of work, committed by the app factory)."""
    tenant_id = live.tenant_of(channel)
    return live_snapshot(site.tenant_site().get(tenant_id) if tenant_id is not None else None)


ATLAS = Path(__file__).parent / "static" / "vendor" / "countries-110m.json"  # the map pages' own (world-atlas)
OUTLINE_BOX = (200, 120)


@functools.cache
def _atlas() -> tuple[dict[str, dict], list[list[tuple[float, float]]]]:
    """The atlas's countries by numeric code, and its arcs decoded to longitude and latitude."""
    topology = json.loads(ATLAS.read_text())
    (scale_x, scale_y), (move_x, move_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # delta-encoded
            x, y = x + dx, y + dy
            points.append((x * scale_x + move_x, y * scale_y + move_y))
        arcs.append(points)
    countries = {geometry["id"]: geometry for geometry in topology["objects"]["countries"]["geometries"]
                 if "id" in geometry}
    return countries, arcs


def _ring(indexes: list[int], arcs: list) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points[1:] if ring else points)
    return ring


@functools.lru_cache(maxsize=300)
def country_outline(code: str) -> dict | None:
    """A country's outline as an SVG path, its largest part fitted in a ``OUTLINE_BOX`` (equirectangular, north
    up), with a point at that part's middle, for a small map drawn by the page itself: no script, no request.
    None for a code the atlas has no shape for."""
    country = pycountry.countries.get(alpha_2=code) if isinstance(code, str) and len(code) == 2 else None
    geometry = _atlas()[0].get(country.numeric) if country else None
    if geometry is None or geometry["type"] not in ("Polygon", "MultiPolygon"):
        return None
    arcs = _atlas()[1]
    polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
    rings = [[_ring(ring, arcs) for ring in polygon] for polygon in polygons]
    if max(x for polygon in rings for x, _ in polygon[0]) - min(x for polygon in rings for x, _ in polygon[0]) > 180:
        # across the antimeridian (Russia's far east, Fiji): the western side moved east, so it stays whole
        rings = [[[(x + 360 if x < 0 else x, y) for x, y in ring] for ring in polygon] for polygon in rings]
    largest = max((polygon[0] for polygon in rings), key=len)  # framed on its main part: islands afar fall outside
    xs, ys = [x for x, _ in largest], [y for _, y in largest]
    width, height = OUTLINE_BOX
    pad = 12
    factor = min((width - 2 * pad) / max(max(xs) - min(xs), 1e-6), (height - 2 * pad) / max(max(ys) - min(ys), 1e-6))
    left = (width - (max(xs) - min(xs)) * factor) / 2
    top = (height - (max(ys) - min(ys)) * factor) / 2

    def point(x: float, y: float) -> tuple[float, float]:
        return round(left + (x - min(xs)) * factor, 1), round(top + (max(ys) - y) * factor, 1)

    path = " ".join("M" + "L".join(f"{px:g},{py:g}" for px, py in (point(x, y) for x, y in ring)) + "Z"
                    for polygon in rings for ring in polygon)
    mid_x, mid_y = point((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    return {"path": path, "x": mid_x, "y": mid_y, "width": width, "height": height}
