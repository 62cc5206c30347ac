"""Places: the city a person gives at sign-up, matched to a known city where it is one."""

from __future__ import annotations

from core import places as cities


def locate(country_code: str, city: str | None, place_id: int | None, language: str) -> tuple[str | None, int | None]:
    """The city to store and its place id: a place picked from the suggestions, else the typed name
    when it is exactly a known city of that country (so it shows on the maps), else the text alone."""
    if place_id is not None:
        return cities.get(place_id, "en").name, place_id
    if city:
        match = next((p for p in cities.search(country_code, city, language, limit=3)
                      if p.name.casefold() == city.casefold()), None)
        if match is not None:
            return cities.get(match.id, "en").name, match.id
    return city, None
